//! The harness for end-to-end suites: starts and stops the real peers.
