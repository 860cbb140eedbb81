//! Optimizers with PyTorch's update rules.
