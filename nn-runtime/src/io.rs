//! Saving and loading parameters as safetensors, named as PyTorch names them.
