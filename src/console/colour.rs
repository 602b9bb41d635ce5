//! A favourite's colour: one of the colours the AWS console itself gives an account
//! (AWS User Experience Customization, `accountColor`), so that a colour chosen here and
//! one read from the account speak the same words.

use serde::{Deserialize, Serialize};

/// An account colour, as the console names them (`none` is no colour: `Option::None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Colour {
    /// Pink.
    Pink,
    /// Purple.
    Purple,
    /// Dark blue.
    DarkBlue,
    /// Light blue.
    LightBlue,
    /// Teal.
    Teal,
    /// Green.
    Green,
    /// Yellow.
    Yellow,
    /// Orange.
    Orange,
    /// Red.
    Red,
}

impl Colour {
    /// Every colour, in the console's order.
    pub const ALL: [Colour; 9] = [
        Self::Pink,
        Self::Purple,
        Self::DarkBlue,
        Self::LightBlue,
        Self::Teal,
        Self::Green,
        Self::Yellow,
        Self::Orange,
        Self::Red,
    ];

    /// Its name in settings, on the command line and in the console's API.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pink => "pink",
            Self::Purple => "purple",
            Self::DarkBlue => "darkBlue",
            Self::LightBlue => "lightBlue",
            Self::Teal => "teal",
            Self::Green => "green",
            Self::Yellow => "yellow",
            Self::Orange => "orange",
            Self::Red => "red",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pink => "Pink",
            Self::Purple => "Purple",
            Self::DarkBlue => "Dark blue",
            Self::LightBlue => "Light blue",
            Self::Teal => "Teal",
            Self::Green => "Green",
            Self::Yellow => "Yellow",
            Self::Orange => "Orange",
            Self::Red => "Red",
        }
    }

    /// The colour as red, green and blue, for the window's swatch and the tray's.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Self::Pink => [0xe0, 0x4f, 0x9a],
            Self::Purple => [0x8a, 0x4f, 0xd6],
            Self::DarkBlue => [0x1f, 0x4e, 0xb4],
            Self::LightBlue => [0x3f, 0xa7, 0xe8],
            Self::Teal => [0x13, 0x9c, 0x94],
            Self::Green => [0x2e, 0x9d, 0x3f],
            Self::Yellow => [0xe3, 0xb3, 0x0b],
            Self::Orange => [0xec, 0x72, 0x11],
            Self::Red => [0xd1, 0x32, 0x12],
        }
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        let [r, g, b] = self.rgb();
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// The nearest of the colours a Firefox container may have.
    pub fn container(self) -> &'static str {
        match self {
            Self::Pink => "pink",
            Self::Purple => "purple",
            Self::DarkBlue => "blue",
            Self::LightBlue | Self::Teal => "turquoise",
            Self::Green => "green",
            Self::Yellow => "yellow",
            Self::Orange => "orange",
            Self::Red => "red",
        }
    }

    /// Reads a colour by its name (any case, `-` and `_` ignored, so `dark-blue` is
    /// `darkBlue`); `none` is `Ok(None)`.
    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        let key: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        if key == "none" {
            return Ok(None);
        }
        Self::ALL
            .into_iter()
            .find(|c| c.name().to_lowercase() == key)
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "{:?} is not a colour; use one of none, {}",
                    raw.chars().take(40).collect::<String>(),
                    Self::ALL.map(Colour::name).join(", ")
                )
            })
    }
}

impl std::fmt::Display for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_spellings_are_forgiven() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.name()), Ok(Some(c)));
            let json = serde_json::to_string(&c).expect("json");
            assert_eq!(json, format!("\"{}\"", c.name()));
        }
        assert_eq!(Colour::parse("dark-blue"), Ok(Some(Colour::DarkBlue)));
        assert_eq!(Colour::parse(" RED "), Ok(Some(Colour::Red)));
        assert_eq!(Colour::parse("none"), Ok(None));
        let err = Colour::parse("crimson\n").expect_err("refused");
        assert!(
            err.contains("\"crimson\\n\"") && err.contains("darkBlue"),
            "{err}"
        );
        assert_eq!(Colour::DarkBlue.hex(), "#1f4eb4");
    }
}
