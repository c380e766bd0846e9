//! How a caller names a session or an integration: by its id (the window and the tray
//! hold ids), or by what a person typed, which is an id or a name (an id wins). Engine
//! calls take either: `engine.stop(id)` and `engine.stop("deploy")`.

use std::fmt;

use crate::session::{IntegrationId, SessionId};

macro_rules! reference {
    ($(#[$doc:meta])* $name:ident, $id:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            /// Exactly this one: never matched by name.
            Id($id),
            /// What a person typed: an id, else a name.
            Typed(String),
        }

        impl From<$id> for $name {
            fn from(id: $id) -> Self {
                Self::Id(id)
            }
        }

        impl From<&$id> for $name {
            fn from(id: &$id) -> Self {
                Self::Id(*id)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self::Typed(text.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self::Typed(text)
            }
        }

        impl From<&String> for $name {
            fn from(text: &String) -> Self {
                Self::Typed(text.clone())
            }
        }

        impl From<&$name> for $name {
            fn from(reference: &$name) -> Self {
                reference.clone()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    Self::Id(id) => id.fmt(f),
                    Self::Typed(text) => f.write_str(text),
                }
            }
        }
    };
}

reference!(
    /// A session, by id or as typed.
    SessionRef,
    SessionId
);
reference!(
    /// An IAM Identity Center integration, by id or as typed.
    IntegrationRef,
    IntegrationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_stays_an_id_and_text_stays_text() {
        let id = SessionId::new();
        assert_eq!(SessionRef::from(id), SessionRef::Id(id));
        assert_eq!(
            SessionRef::from(id.to_string().as_str()),
            SessionRef::Typed(id.to_string())
        );
        assert_eq!(SessionRef::from("deploy").to_string(), "deploy");
        assert_eq!(SessionRef::from(id).to_string(), id.to_string());
    }
}
