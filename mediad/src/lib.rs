//! mediad
