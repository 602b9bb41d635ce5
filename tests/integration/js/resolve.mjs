// Resolves the credentials of profile argv[2] with the AWS SDK for JavaScript v3, as an
// application would, and asks STS whose they are.
//
// Twice: with fromIni({ profile }) (the shared files alone: keys, or credential_process),
// and through the default provider chain under AWS_PROFILE (what an application that names
// no provider gets). Prints one JSON object:
//   { accessKeyId, arn, source, chain: { accessKeyId, arn, source } }
// where `source` lists the SDK's own codes for the providers that produced the credentials.
// STS is the one AWS_ENDPOINT_URL_STS names. On failure: a message on stderr, exit 1.
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromIni, fromNodeProviderChain } from "@aws-sdk/credential-providers";

const profile = process.argv[2];
if (!profile) {
  console.error("usage: node resolve.mjs PROFILE");
  process.exit(2);
}
const endpoint = process.env.AWS_ENDPOINT_URL_STS;
if (!endpoint) {
  console.error("AWS_ENDPOINT_URL_STS is not set");
  process.exit(2);
}

/** The credentials `provider` resolves, and the ARN STS says they belong to. */
async function identify(way, provider) {
  let credentials;
  try {
    credentials = await provider();
  } catch (e) {
    throw new Error(`${way}: no credentials for profile ${profile}: ${e.name}: ${e.message}`);
  }
  const sts = new STSClient({ region: "eu-west-1", endpoint, credentials });
  try {
    const who = await sts.send(new GetCallerIdentityCommand({}));
    return {
      accessKeyId: credentials.accessKeyId,
      arn: who.Arn,
      // Only the key id and where it came from: never the secret or the session token.
      source: Object.keys(credentials.$source ?? {}),
    };
  } catch (e) {
    throw new Error(`${way}: STS refused profile ${profile}'s credentials: ${e.name}: ${e.message}`);
  } finally {
    sts.destroy();
  }
}

try {
  const ini = await identify("fromIni", fromIni({ profile }));
  // The default chain takes the profile from the environment, as applications leave it.
  process.env.AWS_PROFILE = profile;
  const chain = await identify("fromNodeProviderChain", fromNodeProviderChain());
  process.stdout.write(`${JSON.stringify({ ...ini, chain })}\n`);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
