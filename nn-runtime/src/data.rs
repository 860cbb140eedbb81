//! Data sets and utilities: splitting, shuffling, one-hot encoding, standardisation, CSV and IDX loading.
