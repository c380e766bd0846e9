//! The AWS shared credentials and config files: a lossless editor and the deliveries built on it.
