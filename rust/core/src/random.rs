//! Random numbers (in progress)
