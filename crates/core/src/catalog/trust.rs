//! The trust side of a catalog: for every hop of its chains (a parent assuming a role),
//! the role's trust policy admitting the parent and the parent's permission to assume
//! it, written as one CloudFormation or Terraform file ([`render`]); and `trust check`
//! run over every hop the user's sessions make, as a drift table
//! ([`Engine::catalog_check`]).
//!
//! The statements are `trust::statement::needs`'s, the ones `trust show` prints; the
//! catalog only changes who the parent is:
//! - an IAM-user placeholder (`{me}`) stands for every teammate's own user, so the
//!   role trusts its source's account root on condition that `aws:PrincipalArn` is one
//!   of the users' ARNs, given at deploy time (a CloudFormation parameter, a Terraform
//!   variable). Not the users in `Principal`: IAM refuses a policy naming a user that
//!   does not exist yet, and keeps a deleted-and-recreated user's old unique id, while
//!   a condition is a plain ARN comparison. A source without an account id puts the
//!   list in `Principal` itself. The users' own permission is an unattached managed
//!   policy, to attach to their users or group;
//! - an IAM Identity Center role (`AWSReservedSSO_<permission set>_<suffix>`, whose
//!   suffix only AWS knows) is the account root with `ArnLike` on `aws:PrincipalArn`,
//!   AWS's documented pattern; its permission belongs in the permission set (a note);
//! - a role of the catalog is its ARN, and its permission an inline policy on it.
//!
//! Session tags add `sts:TagSession` (the statement's actions already say it) and
//! `ForAllValues:StringEquals` on `aws:TagKeys` and `sts:TransitiveTagKeys`: the keys
//! a session may carry, and pass on, are the catalog's.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::{Catalog, Parent, Source, Target, followed};
use crate::chain::default_role_session_name;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::model::SessionId;
use crate::sync::SyncSource;
use crate::trust::policy::{PolicyDocument, Principal, Statement, ValueList};
use crate::trust::statement::{Caller, CallerKind, Hop, HopNeeds, NeedsOptions, UserArns, needs};
use crate::trust::template::{hcl_heredoc, hcl_identifier, hcl_role, logical_id, name_and_path};
use crate::trust::{PolicySource, Verdict};

/// Who assumes a hop's role, as the catalog names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum HopParent {
    /// An IAM-user placeholder (`me` for `{me}`) and its source's account.
    Placeholder {
        name: String,
        account_id: Option<String>,
    },
    /// A role of the catalog that is assumed with `AssumeRole`, by name.
    Role { name: String, role_arn: String },
    /// A permission set's role through IAM Identity Center, or a federated role: their
    /// permissions are not the catalog's to write.
    Elsewhere { name: String, what: String },
}

/// One hop of a catalog: its role (by catalog name) and what it needs.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogHop {
    pub role: String,
    pub parent: HopParent,
    pub needs: HopNeeds,
}

/// A value standing for a deploy-time list in a policy, replaced when the template is
/// written, and what `catalog check` shows as expected: never a valid ARN, external id
/// or tag key (none holds `<`).
fn stand_in(placeholder: &str) -> String {
    format!("<users bound to {{{placeholder}}}>")
}

/// The CloudFormation parameter of a placeholder's users (`me` → `MeUserArns`).
fn parameter(placeholder: &str) -> String {
    let mut id = logical_id(placeholder);
    if let Some(first) = id.get(..1) {
        id = first.to_ascii_uppercase() + &id[1..];
    }
    format!("{id}UserArns")
}

/// The Terraform variable of a placeholder's users (`me` → `me_user_arns`).
fn variable(placeholder: &str) -> String {
    format!("{}_user_arns", hcl_identifier(placeholder))
}

fn add_condition(statement: &mut Statement, operator: &str, key: &str, values: ValueList) {
    statement
        .condition
        .get_or_insert_with(BTreeMap::new)
        .entry(operator.to_owned())
        .or_default()
        .insert(key.to_owned(), values);
}

/// The hops of `catalog`, parents first: every role assumed with `AssumeRole`.
pub fn hops(catalog: &Catalog) -> Vec<CatalogHop> {
    let by_name: BTreeMap<&str, _> = catalog.roles.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut out = Vec::new();
    for role in &catalog.roles {
        let Target::Role {
            role_arn,
            role_session_name,
            external_id,
            tags,
            transitive_tag_keys,
        } = &role.target
        else {
            continue;
        };
        let id = SessionId::new();
        let (parent, caller) = match &role.parent {
            Parent::Source(p) => {
                let account_id = match catalog.sources.get(p) {
                    Some(Source::IamUser { account_id, .. }) => account_id.clone(),
                    _ => None,
                };
                let caller = Caller {
                    id,
                    session: format!("{{{p}}}"),
                    kind: CallerKind::IamUser,
                    arn: None,
                    account_id: account_id.clone(),
                    session_arn: None,
                };
                let parent = HopParent::Placeholder {
                    name: p.clone(),
                    account_id,
                };
                (parent, caller)
            }
            Parent::Role(p) => {
                let entry = by_name[p.as_str()];
                match &entry.target {
                    Target::SsoRole { account_id, .. } => (
                        HopParent::Elsewhere {
                            name: p.clone(),
                            what: "an IAM Identity Center permission set's role".into(),
                        },
                        Caller::sso_role(id, p, account_id),
                    ),
                    Target::Role {
                        role_arn: parent_arn,
                        ..
                    }
                    | Target::Saml {
                        role_arn: parent_arn,
                        ..
                    } => {
                        let parent = match entry.target {
                            Target::Role { .. } => HopParent::Role {
                                name: p.clone(),
                                role_arn: parent_arn.clone(),
                            },
                            _ => HopParent::Elsewhere {
                                name: p.clone(),
                                what: "a federated (SAML) role".into(),
                            },
                        };
                        let caller = Caller {
                            id,
                            session: p.clone(),
                            kind: CallerKind::Role,
                            arn: Some(parent_arn.clone()),
                            account_id: Some(entry.account_id().to_owned()),
                            session_arn: None,
                        };
                        (parent, caller)
                    }
                }
            }
        };
        let hop = Hop {
            session: role.name.clone(),
            role_arn: role_arn.clone(),
            role_session_name: role_session_name
                .clone()
                .unwrap_or_else(|| default_role_session_name(&role.profile)),
            caller,
            external_id: external_id.clone(),
            source_identity: None,
            passes_tags: !tags.is_empty(),
            mfa: false,
        };
        let mut n = needs(&hop, &UserArns::new(), NeedsOptions::default());
        let statement = &mut n.trust_statement;
        match (&parent, &role.parent) {
            (HopParent::Placeholder { name, account_id }, _) => {
                n.notes = vec![format!(
                    "{{{name}}} is each teammate's own IAM user: the role trusts {} on \
                     condition that aws:PrincipalArn is one of their ARNs, given when the \
                     template is deployed",
                    account_id
                        .as_deref()
                        .map_or("them".to_owned(), |a| format!("account {a}"))
                )];
                if account_id.is_some() {
                    add_condition(
                        statement,
                        "ArnEquals",
                        "aws:PrincipalArn",
                        ValueList::one(&stand_in(name)),
                    );
                } else {
                    statement.principal = Some(Principal::aws(&stand_in(name)));
                }
            }
            (HopParent::Elsewhere { .. }, Parent::Role(p)) => {
                if let Target::SsoRole {
                    account_id,
                    role_name,
                } = &by_name[p.as_str()].target
                {
                    add_condition(
                        statement,
                        "ArnLike",
                        "aws:PrincipalArn",
                        ValueList::one(&format!(
                            "arn:aws:iam::{account_id}:role/aws-reserved/sso.amazonaws.com/\
                             AWSReservedSSO_{role_name}_*"
                        )),
                    );
                }
            }
            _ => {}
        }
        if !tags.is_empty() {
            let keys = ValueList(tags.iter().map(|t| t.key.clone()).collect());
            add_condition(statement, "ForAllValues:StringEquals", "aws:TagKeys", keys);
        }
        if !transitive_tag_keys.is_empty() {
            add_condition(
                statement,
                "ForAllValues:StringEquals",
                "sts:TransitiveTagKeys",
                ValueList(transitive_tag_keys.clone()),
            );
        }
        out.push(CatalogHop {
            role: role.name.clone(),
            parent,
            needs: n,
        });
    }
    out
}

/// The formats of `catalog trust-template`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogTemplateFormat {
    /// One CloudFormation template (JSON) to deploy in each account it names.
    Cloudformation,
    /// Terraform HCL, one aliased provider per account.
    Terraform,
}

/// One role of the template: its ARN's name, path and account, the trust statements of
/// every hop onto it, and the inline permissions of the hops it makes.
struct RoleResource {
    arn: String,
    account: String,
    trust: Vec<Statement>,
    permissions: Vec<(String, Statement)>,
}

/// An unattached policy for a placeholder's users.
struct UserPolicy {
    placeholder: String,
    account: String,
    role_name: String,
    statement: Statement,
}

struct Plan {
    roles: Vec<RoleResource>,
    user_policies: Vec<UserPolicy>,
    placeholders: BTreeSet<String>,
    notes: Vec<String>,
}

impl Plan {
    /// Every account the template creates something in.
    fn accounts(&self) -> BTreeSet<&str> {
        self.roles
            .iter()
            .map(|r| r.account.as_str())
            .chain(self.user_policies.iter().map(|p| p.account.as_str()))
            .collect()
    }
}

fn plan(hops: &[CatalogHop]) -> Plan {
    let mut plan = Plan {
        roles: Vec::new(),
        user_policies: Vec::new(),
        placeholders: BTreeSet::new(),
        notes: Vec::new(),
    };
    for hop in hops {
        let arn = &hop.needs.hop.role_arn;
        let at = match plan.roles.iter().position(|r| &r.arn == arn) {
            Some(i) => i,
            None => {
                plan.roles.push(RoleResource {
                    arn: arn.clone(),
                    account: hop.needs.hop.role_account().unwrap_or_default().to_owned(),
                    trust: Vec::new(),
                    permissions: Vec::new(),
                });
                plan.roles.len() - 1
            }
        };
        if !plan.roles[at].trust.contains(&hop.needs.trust_statement) {
            plan.roles[at].trust.push(hop.needs.trust_statement.clone());
        }
        let (role_name, _) = name_and_path(arn);
        match &hop.parent {
            HopParent::Placeholder { name, account_id } => {
                plan.placeholders.insert(name.clone());
                match account_id {
                    Some(account) => plan.user_policies.push(UserPolicy {
                        placeholder: name.clone(),
                        account: account.clone(),
                        role_name: role_name.to_owned(),
                        statement: hop.needs.identity_statement.clone(),
                    }),
                    None => plan.notes.push(format!(
                        "{{{name}}} names no account_id, so the users' permission to assume \
                         {arn} is not written: give them {}",
                        serde_json::to_string(&hop.needs.identity_statement)
                            .expect("statement serializes")
                    )),
                }
            }
            HopParent::Role { role_arn, .. } => {
                // The parent is a role of the catalog, hence a resource of this template.
                let parent = plan.roles.iter_mut().find(|r| &r.arn == role_arn);
                if let Some(parent) = parent {
                    parent.permissions.push((
                        format!("rolehop-assume-{role_name}"),
                        hop.needs.identity_statement.clone(),
                    ));
                }
            }
            HopParent::Elsewhere { name, what } => plan.notes.push(format!(
                "'{name}' is {what}: give it {} where its permissions are defined",
                serde_json::to_string(&hop.needs.identity_statement).expect("statement serializes")
            )),
        }
    }
    plan
}

/// Unique logical ids, one per role: the role's name, with its account when two roles
/// share a name.
fn role_ids(roles: &[RoleResource], make: impl Fn(&str) -> String) -> Vec<String> {
    let names: Vec<&str> = roles.iter().map(|r| name_and_path(&r.arn).0).collect();
    roles
        .iter()
        .zip(&names)
        .map(|(r, n)| {
            if names.iter().filter(|m| *m == n).count() > 1 {
                make(&format!("{n}{}", r.account))
            } else {
                make(n)
            }
        })
        .collect()
}

/// The template's text for catalog `name`.
pub fn render(name: &str, catalog: &Catalog, format: CatalogTemplateFormat) -> String {
    let plan = plan(&hops(catalog));
    match format {
        CatalogTemplateFormat::Cloudformation => cloudformation(name, &plan),
        CatalogTemplateFormat::Terraform => terraform(name, &plan),
    }
}

/// `value` with every placeholder stand-in replaced by `with(placeholder)`.
fn substitute(value: &mut Value, placeholders: &BTreeSet<String>, with: &impl Fn(&str) -> Value) {
    match value {
        Value::String(s) => {
            if let Some(p) = placeholders.iter().find(|p| *s == stand_in(p)) {
                *value = with(p);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| substitute(v, placeholders, with)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| substitute(v, placeholders, with)),
        _ => {}
    }
}

fn document(statements: &[Statement]) -> Value {
    serde_json::to_value(PolicyDocument::new(statements.to_vec())).expect("policy serializes")
}

fn account_condition(account: &str) -> String {
    format!("InAccount{account}")
}

fn cloudformation(name: &str, plan: &Plan) -> String {
    let ids = role_ids(&plan.roles, logical_id);
    let accounts = plan.accounts();
    let mut parameters = serde_json::Map::new();
    for p in &plan.placeholders {
        parameters.insert(
            parameter(p),
            json!({"Type": "CommaDelimitedList",
                   "Description": format!("The ARNs of the IAM users bound to {{{p}}} \
                       (arn:aws:iam::ACCOUNT:user/NAME), comma-separated")}),
        );
    }
    let conditions: serde_json::Map<String, Value> = accounts
        .iter()
        .map(|a| {
            (
                account_condition(a),
                json!({"Fn::Equals": [{"Ref": "AWS::AccountId"}, a]}),
            )
        })
        .collect();
    let mut resources = serde_json::Map::new();
    let mut outputs = serde_json::Map::new();
    for (role, id) in plan.roles.iter().zip(&ids) {
        let (role_name, path) = name_and_path(&role.arn);
        let properties = json!({
            "RoleName": role_name,
            "Path": path,
            "AssumeRolePolicyDocument": document(&role.trust),
        });
        let condition = account_condition(&role.account);
        resources.insert(
            id.clone(),
            json!({"Type": "AWS::IAM::Role", "Condition": condition, "Properties": properties}),
        );
        // A managed policy attached to the role rather than its inline `Policies`: the
        // same grant on AWS, and the form moto's CloudFormation stores as JSON (it
        // keeps inline `Policies` as Python text, which IAM's readers cannot parse).
        for (policy, statement) in &role.permissions {
            let target = policy.trim_start_matches("rolehop-assume-");
            resources.insert(
                format!("{id}May{}", logical_id(&format!("Assume{target}"))),
                json!({"Type": "AWS::IAM::ManagedPolicy",
                       "Condition": condition,
                       "Properties": {
                           "ManagedPolicyName": format!("rolehop-{role_name}-assume-{target}"),
                           "Roles": [{"Ref": id}],
                           "PolicyDocument": document(std::slice::from_ref(statement))}}),
            );
        }
        outputs.insert(
            format!("{id}Arn"),
            json!({"Condition": condition, "Value": {"Fn::GetAtt": [id, "Arn"]}}),
        );
    }
    for policy in &plan.user_policies {
        let id = format!(
            "{}May{}",
            parameter(&policy.placeholder).trim_end_matches("UserArns"),
            logical_id(&format!("Assume{}", policy.role_name))
        );
        resources.insert(
            id,
            json!({"Type": "AWS::IAM::ManagedPolicy",
                   "Condition": account_condition(&policy.account),
                   "Properties": {
                       "ManagedPolicyName": format!("rolehop-{}-assume-{}", policy.placeholder, policy.role_name),
                       "Description": format!("Lets the IAM users bound to {{{}}} assume {}: attach it to them or their group", policy.placeholder, policy.role_name),
                       "PolicyDocument": document(std::slice::from_ref(&policy.statement))}}),
        );
    }
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "Trust policies of the Rolehop catalog '{name}' (rolehop catalog trust-template): \
             deploy this template in each account it names ({}); each creates that account's roles",
            accounts.iter().copied().collect::<Vec<_>>().join(", ")
        ),
    });
    if !plan.notes.is_empty() {
        template["Metadata"] = json!({"Rolehop": {"Notes": plan.notes}});
    }
    if !parameters.is_empty() {
        template["Parameters"] = Value::Object(parameters);
    }
    template["Conditions"] = Value::Object(conditions);
    template["Resources"] = Value::Object(resources);
    template["Outputs"] = Value::Object(outputs);
    substitute(
        &mut template,
        &plan.placeholders,
        &|p| json!({"Ref": parameter(p)}),
    );
    serde_json::to_string_pretty(&template).expect("template serializes") + "\n"
}

fn terraform(name: &str, plan: &Plan) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("string serializes");
    let ids = role_ids(&plan.roles, hcl_identifier);
    let provider = |account: &str| format!("aws.account_{account}");
    // A policy's JSON in a heredoc, each stand-in a reference to its variable.
    let policy = |statements: &[Statement]| {
        let mut text = hcl_heredoc(
            &serde_json::to_string_pretty(&document(statements)).expect("policy serializes"),
        );
        for p in &plan.placeholders {
            text = text.replace(
                &quote(&stand_in(p)),
                &format!("${{jsonencode(var.{})}}", variable(p)),
            );
        }
        text
    };
    let mut out = format!(
        "# Generated by `rolehop catalog trust-template {name} --format terraform`: the trust\n\
         # policies of the catalog's roles and the permissions their parents need to assume\n\
         # them. One aliased provider per account: give each credentials for its account.\n"
    );
    for note in &plan.notes {
        out.push_str(&format!("# Note: {note}.\n"));
    }
    out.push_str(
        "\nterraform {\n  required_providers {\n    aws = {\n      source = \"hashicorp/aws\"\n    }\n  }\n}\n",
    );
    for p in &plan.placeholders {
        out.push_str(&format!(
            "\nvariable \"{}\" {{\n  description = {}\n  type        = list(string)\n}}\n",
            variable(p),
            quote(&format!(
                "The ARNs of the IAM users bound to {{{p}}} (arn:aws:iam::ACCOUNT:user/NAME)"
            ))
        ));
    }
    let accounts = plan.accounts();
    for a in &accounts {
        out.push_str(&format!(
            "\nprovider \"aws\" {{\n  alias               = \"account_{a}\"\n  allowed_account_ids = [\"{a}\"]\n}}\n"
        ));
    }
    for (role, id) in plan.roles.iter().zip(&ids) {
        let (role_name, path) = name_and_path(&role.arn);
        out.push('\n');
        out.push_str(&hcl_role(
            id,
            role_name,
            &path,
            &policy(&role.trust),
            Some(&provider(&role.account)),
        ));
        for (policy_name, statement) in &role.permissions {
            out.push_str(&format!(
                "\nresource \"aws_iam_role_policy\" \"{id}_{}\" {{\n  provider = {}\n  name     = {}\n  role     = aws_iam_role.{id}.id\n  policy   = <<-EOT\n{}  EOT\n}}\n",
                hcl_identifier(policy_name.trim_start_matches("rolehop-")),
                provider(&role.account),
                quote(policy_name),
                policy(std::slice::from_ref(statement))
            ));
        }
    }
    for p in &plan.user_policies {
        let policy_name = format!("rolehop-{}-assume-{}", p.placeholder, p.role_name);
        out.push_str(&format!(
            "\n# Attach it to the IAM users bound to {{{}}}, or their group.\nresource \"aws_iam_policy\" \"{}\" {{\n  provider    = {}\n  name        = {}\n  description = {}\n  policy      = <<-EOT\n{}  EOT\n}}\n",
            p.placeholder,
            hcl_identifier(&format!("{}_assume_{}", p.placeholder, p.role_name)),
            provider(&p.account),
            quote(&policy_name),
            quote(&format!("Lets the IAM users bound to {{{}}} assume {}", p.placeholder, p.role_name)),
            policy(std::slice::from_ref(&p.statement))
        ));
    }
    for id in &ids {
        out.push_str(&format!(
            "\noutput \"{id}_arn\" {{\n  value = aws_iam_role.{id}.arn\n}}\n"
        ));
    }
    out
}

/// A hop's verdict in the drift table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drift {
    Admits,
    Refuses,
    CannotTell,
}

/// One row of `catalog check`: a hop, what the catalog expects its role to trust, what
/// the live policy trusts, and the verdict with its reason.
#[derive(Debug, Clone, Serialize)]
pub struct DriftRow {
    /// The catalog's role, and its parent as the catalog names it.
    pub role: String,
    pub parent: String,
    /// The session synced from the role, when there is one.
    pub session: Option<String>,
    pub role_arn: String,
    pub expected: String,
    pub found: String,
    pub verdict: Drift,
    pub reason: String,
}

/// `catalog check`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub catalog: String,
    pub hops: Vec<DriftRow>,
}

/// A statement in a line: its principals, actions and conditions.
fn summary(statement: &Statement) -> String {
    let principals = match &statement.principal {
        Some(Principal::Anyone) => "*".to_owned(),
        Some(Principal::Map(map)) => map
            .iter()
            .flat_map(|(kind, values)| {
                values.0.iter().map(move |v| {
                    if kind == "AWS" {
                        v.clone()
                    } else {
                        format!("{kind}:{v}")
                    }
                })
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => "nobody".to_owned(),
    };
    let mut out = principals;
    for (operator, keys) in statement.condition.iter().flatten() {
        for (key, values) in keys {
            out.push_str(&format!(" if {operator} {key} {}", values.0.join("|")));
        }
    }
    out
}

/// What a live policy allows, its Allow statements summed up.
fn found(policy: &PolicyDocument) -> String {
    let allows: Vec<String> = policy
        .statement
        .iter()
        .filter(|s| s.effect == crate::trust::policy::Effect::Allow)
        .map(summary)
        .collect();
    if allows.is_empty() {
        "no Allow statement".to_owned()
    } else {
        allows.join("; ")
    }
}

impl Engine {
    /// The trust template of followed catalog `name`, read afresh.
    pub async fn catalog_trust_template(
        &self,
        name: &str,
        format: CatalogTemplateFormat,
    ) -> Result<String, EngineError> {
        let followed = followed(&self.workspace().await?, name)?;
        let (catalog, _) = self.fetch_catalog(&followed).await?;
        Ok(render(name, &catalog, format))
    }

    /// `trust check` over every hop of followed catalog `name` that the user's sessions
    /// make. A hop's policy is read by the first of `via` acting in the role's account,
    /// else by the session `trust check` would pick (the parent in the same account, an
    /// active session there).
    pub async fn catalog_check(
        &self,
        name: &str,
        via: &[String],
    ) -> Result<DriftReport, EngineError> {
        let ws = self.workspace().await?;
        let followed = followed(&ws, name)?;
        let (catalog, _) = self.fetch_catalog(&followed).await?;
        let mut vias = Vec::new();
        for v in via {
            let stored = ws.find(v.as_str())?;
            vias.push((stored.session.name.clone(), ws.view(stored).account_id));
        }
        let source = SyncSource::Catalog {
            catalog: name.to_owned(),
        };
        let inspector = self.trust();
        let mut rows = Vec::new();
        for hop in hops(&catalog) {
            let n = &hop.needs;
            let session = ws.sessions.iter().find(|s| {
                s.origin
                    .as_ref()
                    .is_some_and(|o| o.source == source && o.key.role_name == hop.role)
            });
            let mut row = DriftRow {
                role: hop.role.clone(),
                parent: n.hop.caller.session.clone(),
                session: session.map(|s| s.session.name.clone()),
                role_arn: n.hop.role_arn.clone(),
                expected: summary(&n.trust_statement),
                found: "not read".to_owned(),
                verdict: Drift::CannotTell,
                reason: String::new(),
            };
            let Some(session) = session else {
                row.reason = "no session of yours makes this hop: bind the catalog's \
                              placeholders and sync it"
                    .to_owned();
                rows.push(row);
                continue;
            };
            let account = n.hop.role_account();
            let reader = vias
                .iter()
                .find(|(_, a)| a.as_deref() == account)
                .map(|(v, _)| v.clone());
            match inspector
                .check(session.session.id, PolicySource::Fetch { via: reader })
                .await
            {
                Ok(report) => {
                    row.found = found(&report.policy);
                    let e = report.evaluation;
                    (row.verdict, row.reason) = match e.verdict {
                        Verdict::Admitted => (Drift::Admits, String::new()),
                        Verdict::NotAdmitted => (Drift::Refuses, e.missing.join("; ")),
                        Verdict::ExplicitDeny => (Drift::Refuses, e.details.join("; ")),
                        Verdict::CannotTell => (Drift::CannotTell, e.details.join("; ")),
                    };
                }
                Err(e) => row.reason = e.to_string(),
            }
            rows.push(row);
        }
        Ok(DriftReport {
            catalog: name.to_owned(),
            hops: rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../../docs/catalog.example.toml");

    #[test]
    fn part3_each_hop_trusts_its_parent_as_the_catalog_names_it() {
        let catalog = crate::catalog::parse(EXAMPLE).unwrap();
        let hops = hops(&catalog);
        assert_eq!(hops.len(), 2);
        assert_eq!(
            serde_json::to_value(&hops[0].needs.trust_statement).unwrap(),
            json!({"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "ArnEquals": {"aws:PrincipalArn": stand_in("me")},
                    "ForAllValues:StringEquals": {"aws:TagKeys": "team",
                                                  "sts:TransitiveTagKeys": "team"}}})
        );
        assert_eq!(
            serde_json::to_value(&hops[1].needs.trust_statement).unwrap(),
            json!({"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:role/CodeBuildRole"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "platform-deploy"}}})
        );
    }

    #[test]
    fn part3_the_cloudformation_template_gives_each_account_its_roles_and_permissions() {
        let catalog = crate::catalog::parse(EXAMPLE).unwrap();
        let text = render("platform", &catalog, CatalogTemplateFormat::Cloudformation);
        let t: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(t["Parameters"]["MeUserArns"]["Type"], "CommaDelimitedList");
        let codebuild = &t["Resources"]["CodeBuildRole"];
        assert_eq!(codebuild["Condition"], "InAccount111111111111");
        assert_eq!(
            codebuild["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]
                ["aws:PrincipalArn"],
            json!({"Ref": "MeUserArns"})
        );
        let permission = &t["Resources"]["CodeBuildRoleMayAssumeResourceDeployCAR"];
        assert_eq!(
            permission["Properties"]["Roles"],
            json!([{"Ref": "CodeBuildRole"}])
        );
        assert_eq!(
            permission["Properties"]["PolicyDocument"]["Statement"][0]["Resource"],
            "arn:aws:iam::222222222222:role/ResourceDeployCAR"
        );
        assert_eq!(
            t["Resources"]["ResourceDeployCAR"]["Condition"],
            "InAccount222222222222"
        );
        let user = &t["Resources"]["MeMayAssumeCodeBuildRole"];
        assert_eq!(user["Type"], "AWS::IAM::ManagedPolicy");
        assert_eq!(
            user["Properties"]["PolicyDocument"]["Statement"][0]["Action"],
            json!(["sts:AssumeRole", "sts:TagSession"])
        );
        assert!(!text.contains("<users"), "no stand-in is left: {text}");
    }

    #[test]
    fn part3_the_terraform_template_refers_to_the_users_variable() {
        let catalog = crate::catalog::parse(EXAMPLE).unwrap();
        let text = render("platform", &catalog, CatalogTemplateFormat::Terraform);
        assert!(text.contains("variable \"me_user_arns\" {"), "{text}");
        assert!(
            text.contains("\"aws:PrincipalArn\": ${jsonencode(var.me_user_arns)}"),
            "{text}"
        );
        assert!(
            text.contains("resource \"aws_iam_role\" \"code_build_role\" {\n  provider           = aws.account_111111111111\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "resource \"aws_iam_role_policy\" \"code_build_role_assume_resource_deploy_car\""
            ),
            "{text}"
        );
        assert!(
            text.contains("resource \"aws_iam_policy\" \"me_assume_code_build_role\""),
            "{text}"
        );
        assert!(!text.contains("<users"), "no stand-in is left: {text}");
    }
}
