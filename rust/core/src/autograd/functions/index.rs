//! Indexing reads and writes, gather/scatter, masked ops, and their rules.
