//! A refused `AssumeRole` explained in trust-policy terms, and the verdict IAM would
//! give: the data a failed session carries (`Failure::trust`) and the UI shows. The
//! evaluator that computes a verdict and the explanation's wording live in
//! `rolehop-core`'s `trust` module; this is only what they produce.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A refused `AssumeRole`, in trust-policy terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct TrustExplanation {
    /// The role session whose `AssumeRole` was refused (the hop).
    pub session: String,
    pub role_arn: String,
    /// The session that called `AssumeRole` (the hop's parent).
    pub parent: String,
    /// The principal the role's trust policy must admit: the parent as IAM names it
    /// (an IAM user's ARN, a role's ARN), or its account root when the user is unknown.
    pub principal: Option<String>,
    /// The statement the role's trust policy needs, as pretty JSON (`trust show`'s).
    pub trust_statement: String,
    /// The statement the parent's identity policy needs, as pretty JSON.
    pub identity_statement: String,
    /// What the role's actual trust policy says of the hop, or why it was not read.
    pub policy: PolicyReading,
    /// All of the above in one paragraph, as the CLI prints it and a row shows it.
    pub summary: String,
}

impl fmt::Display for TrustExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

/// The role's trust policy as the explanation found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum PolicyReading {
    /// Read and evaluated for the hop (`trust check`'s verdict).
    Evaluated {
        /// Who read it (`iam:GetRole as 'codebuild'`).
        source: String,
        verdict: Verdict,
        /// What the policy lacks (the principal to add, the external id wanted...).
        missing: Vec<String>,
        /// The deciding statements, and the keys Rolehop cannot know.
        details: Vec<String>,
    },
    /// Not read: no session could read it, IAM refused, or time ran out.
    Unread { reason: String },
}

/// The outcome for the whole request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Some statement allows every action the hop needs, and none denies it.
    Admitted,
    /// A Deny statement matches.
    ExplicitDeny,
    /// No statement allows it.
    NotAdmitted,
    /// The answer depends on something Rolehop cannot know.
    CannotTell,
}
