// A command run by `aws-sso-auth exec`, as an application would be: the AWS SDK for
// JavaScript v3 with no credentials given, so that its default chain finds them where the
// environment says (the container endpoint exec sets), and STS GetCallerIdentity signed
// with them, at the endpoint AWS_ENDPOINT_URL_STS names (the SDK reads it by itself).
//
// Prints one JSON object:
//   { account, accessKeyId, source, secondsLeft, endpoint }
// where `source` lists the SDK's own codes for the providers that produced the credentials
// (CREDENTIALS_HTTP: a container endpoint), `secondsLeft` is how long they have before
// they expire, and `endpoint` is the address they were asked at. Never the secret or the
// session token. On failure: a message on stderr, exit 1.
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

if (!process.env.AWS_ENDPOINT_URL_STS) {
  console.error("AWS_ENDPOINT_URL_STS is not set");
  process.exit(2);
}

// A region is needed to build the client; exec sets one only for a favourite that has one.
const sts = new STSClient({ region: process.env.AWS_REGION ?? "us-east-1" });
try {
  const who = await sts.send(new GetCallerIdentityCommand({}));
  // What the client signed with: its resolved (and cached) credentials.
  const credentials = await sts.config.credentials();
  process.stdout.write(
    `${JSON.stringify({
      account: who.Account,
      accessKeyId: credentials.accessKeyId,
      source: Object.keys(credentials.$source ?? {}),
      secondsLeft: credentials.expiration
        ? (credentials.expiration.getTime() - Date.now()) / 1000
        : null,
      endpoint: process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? null,
    })}\n`,
  );
} catch (e) {
  console.error(`${e.name}: ${e.message}`);
  process.exit(1);
} finally {
  sts.destroy();
}
