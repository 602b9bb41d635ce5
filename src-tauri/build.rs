//! Builds the app with its config from the repository root, and declares its commands so
//! that a capability must grant each one (see `capabilities/default.json`).

const COMMANDS: &[&str] = &[
    "get_state",
    "open_role_console",
    "console_choices",
    "set_favourite_console",
    "set_portal_browser",
    "sign_in",
    "cancel_sign_in",
    "decline_sign_in",
    "open_sign_in_page",
    "sign_out",
    "get_accounts",
    "refresh_accounts",
    "prioritise_accounts",
    "generate_profiles",
    "add_favourite",
    "edit_favourite",
    "remove_favourite",
    "kubeconfig_entries",
    "eks_clusters",
    "add_to_kubeconfig",
    "suggest_profile_name",
    "remove_profile",
    "write_profile",
    "renew_now",
    "open_console",
    "set_preferences",
    "set_start_at_login",
    "add_instance",
    "configured_portals",
    "import_aws_config",
    "import_aws_config_portal",
    "remove_instance",
    "set_default_instance",
    "stop_exec_session",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {e:#}");
    }
}
