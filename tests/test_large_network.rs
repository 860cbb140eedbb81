//! A network of 1.86 million parameters (784-1024-1024-10) is created, run,
//! differentiated and saved from a thread with the default 2 MiB stack, in debug and
//! release builds: nothing of its size ever lives on the stack.

use nn::prelude::*;

nn::network! {
    /// 784-1024-1024-10: 1,863,690 parameters, 7.5 MB in f32.
    pub struct Big {
        input: 784,
        dense(1024), relu,
        dense(1024), relu,
        dense(10), softmax,
    }
}

const STACK: usize = 2 * 1024 * 1024;

fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the thread panicked or overflowed its stack");
}

#[test]
fn big_network_on_a_2mib_stack() {
    const { assert!(Big::<f32>::PARAMS >= 1_500_000) };
    assert!(
        std::mem::size_of::<Big<f32>>() > STACK,
        "the network alone is larger than the stack"
    );
    on_small_stack(|| {
        let mut net = Big::<f32>::boxed_seeded(3);
        let x = SMatrix::<f32, 784, 4>::from_fn(|i, j| ((i + 3 * j) % 17) as f32 / 17.0);
        let y = nn::loss::one_hot_batch::<f32, 10, 4>(&[1, 3, 5, 7]).unwrap();
        let p = net.forward_batch(&x);
        for c in 0..4 {
            assert!((p.column(c).sum() - 1.0).abs() < 1e-5);
        }
        let mut grads = Big::<f32>::boxed_zero_gradients();
        // Every weight matrix, of the network and of its gradients, starts on a cache line.
        for w in [
            net.layer0.weight.as_ptr(),
            net.layer2.weight.as_ptr(),
            net.layer4.weight.as_ptr(),
            grads.layer0.weight.as_ptr(),
            grads.layer4.weight.as_ptr(),
        ] {
            assert_eq!(w as usize % 64, 0);
        }
        let loss = net.loss_and_gradients_into(&x, &y, &CrossEntropy, &mut grads);
        assert!(loss.is_finite() && loss > 0.0);
        assert!(grads.norm() > 0.0);
        // A gradient-descent step through the Parameters trait, in place.
        net.add_scaled_gradients(&grads, -0.1);
        assert!(net.loss(&x, &y, &CrossEntropy) < loss);
        let mut copy = Big::<f32>::boxed_zeros();
        copy.copy_from(&net);
        assert_eq!(copy.layer4.bias, net.layer4.bias);
    });
}

#[test]
fn big_network_saves_and_loads_on_a_2mib_stack() {
    on_small_stack(|| {
        let net = Big::<f32>::boxed_seeded(5);
        let dir = std::env::temp_dir().join(format!("nn-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.safetensors");
        net.save_safetensors(&path).unwrap();
        let back = Big::<f32>::boxed_from_safetensors(&path).unwrap();
        assert_eq!(back.layer2.weight, net.layer2.weight);
        let grads = Big::<f32>::boxed_zero_gradients();
        grads
            .save_safetensors(dir.join("grads.safetensors"))
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    });
}
