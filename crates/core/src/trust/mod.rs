//! Trust policies: what each hop of a chain needs from IAM ([`statement`]),
//! ready-to-deploy role definitions with that trust ([`template`]), the policy grammar
//! ([`policy`]), IAM's evaluation of a trust policy for a hop ([`evaluate`], its
//! condition operators in [`condition`]), and fetching a role's actual policy with
//! `iam:GetRole` ([`iam`]) through a session that can ([`inspect`]), and a refused
//! `AssumeRole` explained in those terms ([`explain`]).

mod caller;
pub mod explain;
pub use rolehop_aws::iam;
pub mod inspect;
pub mod statement;
pub mod template;

pub use evaluate::{Evaluation, RequestContext, Verdict, evaluate};
pub use explain::{PolicyReading, TrustExplanation};
pub use inspect::{CheckReport, PolicySource, TrustInspector};
pub use policy::{PolicyDocument, PolicyError};
pub use statement::{Hop, HopNeeds, NeedsOptions};
pub use template::TemplateFormat;

// The pure grammar and evaluator: rolehop-policy.
pub use rolehop_policy::document as policy;
pub use rolehop_policy::{condition, evaluate};
