//! An AWS Organization in moto, made with boto3 as its management account
//! (123456789012), for the suites of `org sync` (`cli_org`, `desktop_org`).

use rolehop_e2e::python;

use crate::cli::World;

/// The organization as the fixture made it.
pub struct Org {
    /// `ou-...` ids: `workloads` (10 accounts), `sandbox` (7 accounts, and its nested
    /// OU `team` with 3 more).
    pub workloads: String,
    pub sandbox: String,
    /// (id, name, top-level OU name) of the 20 member accounts.
    pub accounts: Vec<(String, String, String)>,
}

impl Org {
    pub fn in_ou(&self, ou: &str) -> Vec<&(String, String, String)> {
        self.accounts.iter().filter(|a| a.2 == ou).collect()
    }
}

/// Calls `boto3.client("organizations")` as moto's administrator (the management
/// account, 123456789012) with `script`, which prints JSON.
pub fn organizations(world: &World, script: &str) -> serde_json::Value {
    let out = python(
        &format!("import json, boto3\norg = boto3.client('organizations')\n{script}"),
        world.peers.moto().admin_env(),
    )
    .expect("python runs");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

/// 20 accounts: 10 in Workloads, 7 in Sandbox and 3 in Sandbox/Team.
pub fn make_org(world: &World) -> Org {
    let made = organizations(
        world,
        r#"
org.create_organization(FeatureSet="ALL")
root = org.list_roots()["Roots"][0]["Id"]
ou = lambda parent, name: org.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]
workloads = ou(root, "Workloads")
sandbox = ou(root, "Sandbox")
team = ou(sandbox, "Team")
accounts = []
for i in range(20):
    name = f"Workload {i:02}" if i < 10 else f"Sandbox {i:02}"
    status = org.create_account(Email=f"a{i}@example.com", AccountName=name)["CreateAccountStatus"]
    target, top = (workloads, "workloads") if i < 10 else ((team if i >= 17 else sandbox), "sandbox")
    org.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=target)
    accounts.append([status["AccountId"], name, top])
print(json.dumps({"workloads": workloads, "sandbox": sandbox, "accounts": accounts}))
"#,
    );
    Org {
        workloads: made["workloads"].as_str().unwrap().to_owned(),
        sandbox: made["sandbox"].as_str().unwrap().to_owned(),
        accounts: made["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let s = |i: usize| a[i].as_str().unwrap().to_owned();
                (s(0), s(1), s(2))
            })
            .collect(),
    }
}
