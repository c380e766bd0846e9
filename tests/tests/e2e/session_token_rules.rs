//! Part 5 of issue 24, the peer half: the verifying layer in front of moto
//! (`tests/peers/session_token_addon.py`, loaded by `FaultProxy::start_verifying`) holds
//! `GetSessionToken` credentials to AWS's rules, and chains from IAM users run through
//! it with moto's IAM authentication on.
//!
//! The first tests prove the layer with boto3 alone, one row of its table each (API ×
//! how the credentials were obtained): it refuses exactly where AWS does, with AWS's
//! code and status, and where AWS accepts, moto accepts too and answers as the IAM
//! user. A baseline shows why the layer exists (moto alone is lenient without auth and
//! refuses every session token with it). The last tests run Rolehop through it.

use crate::cli::World;
use rolehop_e2e::fault_proxy::FaultProxy;
use rolehop_e2e::moto::ACCOUNT_ID;
use rolehop_e2e::{IamUser, MotoServer};

/// boto3 helpers the row scripts share: `session(mfa)` the user's GetSessionToken
/// credentials (with or without its MFA device), `outcome(call)` "ok" or
/// "<HTTP status> <error code>", `rows` printed as JSON at the end.
const PRELUDE: &str = r#"
import json, os, atexit, boto3, botocore.exceptions
from botocore.config import Config
ENDPOINT = os.environ["LAYER_ENDPOINT"]
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})
def client(service, creds):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1",
                        config=NO_RETRIES, **creds)
LONG_LIVED = {"aws_access_key_id": os.environ["USER_KEY"],
              "aws_secret_access_key": os.environ["USER_SECRET"]}
def session(mfa):
    extra = {"SerialNumber": os.environ["MFA_SERIAL"], "TokenCode": "123456"} if mfa else {}
    c = client("sts", LONG_LIVED).get_session_token(DurationSeconds=900, **extra)["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}
def outcome(call):
    try:
        answer = call()
    except botocore.exceptions.ClientError as e:
        return f'{e.response["ResponseMetadata"]["HTTPStatusCode"]} {e.response["Error"]["Code"]}: {e.response["Error"]["Message"]}'
    return "ok " + json.dumps(answer, default=str)
rows = {}
atexit.register(lambda: print(json.dumps(rows)))
"#;

/// moto with auth on, an IAM user allowed everything (with an MFA device), a role it
/// may assume, and the layer in front with the user's long-lived key registered.
struct Layer {
    moto: MotoServer,
    proxy: FaultProxy,
    user: IamUser,
    mfa_serial: String,
    role: String,
}

impl Layer {
    fn start() -> Self {
        let moto = MotoServer::start().expect("moto starts");
        let user = moto.create_user("erin").expect("moto user");
        let mfa_serial = moto.create_mfa_device("erin").expect("MFA device");
        let role = moto
            .create_role("ErinDeploys", &user.arn)
            .expect("moto role");
        moto.enable_auth().expect("moto auth");
        let proxy = FaultProxy::start_verifying(&moto.endpoint()).expect("layer starts");
        proxy.register_long_lived_key(&user);
        Self {
            moto,
            proxy,
            user,
            mfa_serial,
            role,
        }
    }

    /// Runs `script` (after [`PRELUDE`]) against `endpoint` as this layer's user.
    fn rows(&self, endpoint: &str, script: &str) -> serde_json::Value {
        run_rows(endpoint, &self.user, &self.mfa_serial, &self.role, script)
    }
}

/// Runs `script` (after [`PRELUDE`]) with boto3 against `endpoint` as `user`; returns
/// its rows.
fn run_rows(
    endpoint: &str,
    user: &IamUser,
    mfa_serial: &str,
    role: &str,
    script: &str,
) -> serde_json::Value {
    let env = [
        ("LAYER_ENDPOINT", endpoint),
        ("USER_KEY", &user.access_key_id),
        ("USER_SECRET", &user.secret_access_key),
        ("MFA_SERIAL", mfa_serial),
        ("ROLE_ARN", role),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let out = rolehop_e2e::python(&format!("{PRELUDE}\n{script}"), env).expect("python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("rows not JSON ({e}): {stdout}"))
}

/// Row `name` of `rows`, as text.
fn row<'a>(rows: &'a serde_json::Value, name: &str) -> &'a str {
    rows[name]
        .as_str()
        .unwrap_or_else(|| panic!("no row {name} in {rows}"))
}

const INVALID_TOKEN: &str =
    "403 InvalidClientTokenId: The security token included in the request is invalid.";

#[test]
fn part5_layer_refuses_iam_calls_with_a_session_token_obtained_without_mfa_and_accepts_them_with_mfa()
 {
    let layer = Layer::start();
    let rows = layer.rows(
        &layer.proxy.endpoint(),
        r#"
rows["iam without mfa"] = outcome(lambda: client("iam", session(False)).get_user())
rows["iam with mfa"] = outcome(lambda: client("iam", session(True)).get_user())
rows["iam with the long-lived key"] = outcome(lambda: client("iam", LONG_LIVED).get_user())
"#,
    );
    assert_eq!(row(&rows, "iam without mfa"), INVALID_TOKEN, "{rows}");
    // Accepted, and moto answers as the IAM user the token belongs to.
    for accepted in ["iam with mfa", "iam with the long-lived key"] {
        let answer = row(&rows, accepted);
        assert!(
            answer.starts_with("ok ") && answer.contains(&layer.user.arn),
            "{accepted}: {rows}"
        );
    }
    assert_eq!(
        layer.proxy.session_decisions(),
        [
            "refuse iam:GetUser InvalidClientTokenId",
            "accept iam:GetUser mfa=true"
        ],
        "the long-lived key's call is not the layer's to judge"
    );
}

#[test]
fn part5_layer_allows_session_tokens_only_assume_role_and_get_caller_identity_in_sts() {
    let layer = Layer::start();
    let rows = layer.rows(
        &layer.proxy.endpoint(),
        r#"
for mfa in (False, True):
    creds = session(mfa)
    sts = client("sts", creds)
    tag = "with mfa" if mfa else "without mfa"
    rows["GetCallerIdentity " + tag] = outcome(lambda: sts.get_caller_identity()["Arn"])
    rows["AssumeRole " + tag] = outcome(lambda: sts.assume_role(
        RoleArn=os.environ["ROLE_ARN"], RoleSessionName="erin")["AssumedRoleUser"]["Arn"])
    rows["GetSessionToken " + tag] = outcome(lambda: sts.get_session_token())
    rows["GetFederationToken " + tag] = outcome(lambda: sts.get_federation_token(Name="erin"))
"#,
    );
    for tag in ["without mfa", "with mfa"] {
        assert_eq!(
            row(&rows, &format!("GetCallerIdentity {tag}")),
            format!("ok \"{}\"", layer.user.arn),
            "{rows}"
        );
        assert_eq!(
            row(&rows, &format!("AssumeRole {tag}")),
            format!("ok \"arn:aws:sts::{ACCOUNT_ID}:assumed-role/ErinDeploys/erin\""),
            "the role's trust policy admits the user the token belongs to: {rows}"
        );
        for refused in ["GetSessionToken", "GetFederationToken"] {
            assert_eq!(
                row(&rows, &format!("{refused} {tag}")),
                format!("403 AccessDenied: Cannot call {refused} with session credentials"),
                "{rows}"
            );
        }
    }
}

#[test]
fn part5_layer_passes_other_services_and_checks_each_session_tokens_secret_and_token() {
    let layer = Layer::start();
    let org = rolehop_e2e::python(
        "import boto3; boto3.client('organizations').create_organization(FeatureSet='ALL')",
        layer.moto.admin_env(),
    )
    .expect("python");
    assert!(org.status.success(), "{org:?}");
    let rows = layer.rows(
        &layer.proxy.endpoint(),
        r#"
creds = session(False)
rows["organizations without mfa"] = outcome(
    lambda: client("organizations", creds).describe_organization()["Organization"]["FeatureSet"])
wrong_secret = dict(creds, aws_secret_access_key="x" * 40)
rows["wrong secret"] = outcome(lambda: client("sts", wrong_secret).get_caller_identity())
wrong_token = dict(creds, aws_session_token=creds["aws_session_token"][:-4] + "AAAA")
rows["wrong token"] = outcome(lambda: client("sts", wrong_token).get_caller_identity())
"#,
    );
    assert_eq!(
        row(&rows, "organizations without mfa"),
        "ok \"ALL\"",
        "AWS lets GetSessionToken credentials call services other than IAM and STS: {rows}"
    );
    assert!(
        row(&rows, "wrong secret").starts_with("403 SignatureDoesNotMatch: "),
        "{rows}"
    );
    assert_eq!(row(&rows, "wrong token"), INVALID_TOKEN, "{rows}");
}

#[test]
fn part5_moto_alone_accepts_iam_calls_without_mfa_and_with_auth_refuses_every_session_token() {
    let layer = Layer::start();
    let script = r#"
rows["iam without mfa"] = outcome(lambda: client("iam", session(False)).get_user())
rows["sts with mfa"] = outcome(lambda: client("sts", session(True)).get_caller_identity())
"#;
    let with_auth = layer.rows(&layer.moto.endpoint(), script);
    assert_eq!(row(&with_auth, "iam without mfa"), INVALID_TOKEN);
    assert_eq!(
        row(&with_auth, "sts with mfa"),
        INVALID_TOKEN,
        "moto refuses what AWS accepts: {with_auth}"
    );
    let lenient = MotoServer::start().expect("moto starts");
    let user = lenient.create_user("erin").expect("moto user");
    let serial = lenient.create_mfa_device("erin").expect("MFA device");
    let without_auth = run_rows(&lenient.endpoint(), &user, &serial, &layer.role, script);
    assert!(
        row(&without_auth, "iam without mfa").starts_with("ok "),
        "moto accepts what AWS refuses: {without_auth}"
    );
}

/// A world whose STS, IAM and Organizations calls go through the layer, moto's auth on,
/// IAM user `dave` (keys registered with the layer; with `mfa`, an MFA device the
/// session names) and role session `deploys` chained from it.
fn world_through_the_layer(mfa: bool) -> (World, FaultProxy) {
    let world = World::start();
    let moto = world.peers.moto();
    let dave = moto.create_user("dave").expect("moto user");
    let keys = format!("{}\n{}\n", dave.access_key_id, dave.secret_access_key);
    let mut add = vec![
        "session",
        "add",
        "iam-user",
        "--name",
        "dave",
        "--profile",
        "dave",
        "--region",
        "us-east-1",
    ];
    let serial = mfa.then(|| moto.create_mfa_device("dave").expect("MFA device"));
    if let Some(serial) = &serial {
        add.extend(["--mfa-serial", serial]);
    }
    world.rolehop_with(&add, &[], Some(&keys)).ok();
    let role = world.create_role_trusting(
        "DaveDeploys",
        &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": dave.arn}, "Action": "sts:AssumeRole"}]}),
    );
    world.add_role("deploys", "dave", &role);
    moto.enable_auth().expect("moto auth");
    let proxy = FaultProxy::start_verifying(&moto.endpoint()).expect("layer");
    proxy.register_long_lived_key(&dave);
    let world = world.with_env("AWS_ENDPOINT_URL", &proxy.endpoint());
    (world, proxy)
}

#[test]
fn part5_a_chain_from_an_iam_user_runs_with_moto_auth_on_through_the_layer() {
    let (world, proxy) = world_through_the_layer(false);
    world.rolehop(&["session", "start", "deploys"]).ok();
    // The start's AssumeRole was signed with dave's session token, obtained without
    // MFA: AWS accepts that, and so did moto, through the layer.
    assert!(
        proxy
            .session_decisions()
            .contains(&"accept sts:AssumeRole mfa=false".to_owned()),
        "{:?}",
        proxy.session_decisions()
    );
    let arn = world
        .caller_arn("deploys")
        .unwrap_or_else(|run| panic!("{run:?}"));
    assert!(
        arn.starts_with(&format!(
            "arn:aws:sts::{ACCOUNT_ID}:assumed-role/DaveDeploys/"
        )),
        "{arn}"
    );
}

#[test]
fn part5_trust_check_through_an_iam_user_without_mfa_passes_the_layer_with_the_long_lived_key() {
    let (world, proxy) = world_through_the_layer(false);
    // The start caches dave's session token, obtained without MFA.
    world.rolehop(&["session", "start", "deploys"]).ok();
    let check = trust_check_admitted(&world);
    assert_eq!(check["source"], "iam:GetRole as 'dave'", "{check}");
    // Had GetRole been signed with that token, the layer would have refused it as AWS
    // does (the first test shows that row); it judged no IAM call at all.
    let decisions = proxy.session_decisions();
    assert!(
        !decisions.iter().any(|d| d.contains(" iam:")),
        "{decisions:?}"
    );
}

#[test]
fn part5_trust_check_through_an_iam_user_with_mfa_signs_iam_with_its_mfa_session_token() {
    let (world, proxy) = world_through_the_layer(true);
    world
        .rolehop(&["session", "start", "deploys", "--mfa-code", "123456"])
        .ok();
    trust_check_admitted(&world);
    let decisions = proxy.session_decisions();
    assert!(
        decisions.contains(&"accept sts:AssumeRole mfa=true".to_owned())
            && decisions.contains(&"accept iam:GetRole mfa=true".to_owned()),
        "the chain and GetRole signed with dave's MFA session token: {decisions:?}"
    );
}

/// `trust check deploys --json`, which must say "admitted"; its answer.
fn trust_check_admitted(world: &World) -> serde_json::Value {
    let check = world
        .rolehop(&["trust", "check", "deploys", "--json"])
        .ok()
        .json();
    assert_eq!(check["evaluation"]["verdict"], "admitted", "{check}");
    check
}
