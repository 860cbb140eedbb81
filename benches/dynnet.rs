//! The baseline a user would otherwise write: a `Vec<Box<dyn Layer>>` over nalgebra's
//! `DMatrix` (whose products call the `matrixmultiply` crate), allocating as it goes.
#![allow(dead_code)]

use nn::nalgebra::{DMatrix, DVector};

/// A layer of the dynamic network.
pub trait Layer {
    /// Forward; keeps what backward needs.
    fn forward(&mut self, x: DMatrix<f32>) -> DMatrix<f32>;
    /// Backward: gradients into the layer, returns dLoss/dInput.
    fn backward(&mut self, dy: DMatrix<f32>) -> DMatrix<f32>;
    /// `p -= lr · grad` and zero the gradients.
    fn sgd(&mut self, _lr: f32) {}
}

/// A dense layer.
pub struct Dense {
    w: DMatrix<f32>,
    b: DVector<f32>,
    x: DMatrix<f32>,
    dw: DMatrix<f32>,
    db: DVector<f32>,
}

impl Dense {
    /// Deterministic small weights.
    pub fn new(inputs: usize, outputs: usize, seed: u64) -> Self {
        let mut w = DMatrix::zeros(outputs, inputs);
        super::hand::fill(w.as_mut_slice(), seed, (1.0 / inputs as f32).sqrt());
        Dense {
            w,
            b: DVector::zeros(outputs),
            x: DMatrix::zeros(0, 0),
            dw: DMatrix::zeros(outputs, inputs),
            db: DVector::zeros(outputs),
        }
    }
}

impl Layer for Dense {
    fn forward(&mut self, x: DMatrix<f32>) -> DMatrix<f32> {
        let mut y = &self.w * &x;
        for mut col in y.column_iter_mut() {
            col += &self.b;
        }
        self.x = x;
        y
    }
    fn backward(&mut self, dy: DMatrix<f32>) -> DMatrix<f32> {
        self.dw += &dy * self.x.transpose();
        self.db += dy.column_sum();
        self.w.tr_mul(&dy)
    }
    fn sgd(&mut self, lr: f32) {
        self.w -= &self.dw * lr;
        self.b -= &self.db * lr;
        self.dw.fill(0.0);
        self.db.fill(0.0);
    }
}

/// ReLU.
#[derive(Default)]
pub struct Relu(DMatrix<f32>);
impl Layer for Relu {
    fn forward(&mut self, x: DMatrix<f32>) -> DMatrix<f32> {
        let y = x.map(|v| v.max(0.0));
        self.0 = y.clone();
        y
    }
    fn backward(&mut self, dy: DMatrix<f32>) -> DMatrix<f32> {
        dy.zip_map(&self.0, |g, y| if y > 0.0 { g } else { 0.0 })
    }
}

/// Sigmoid.
#[derive(Default)]
pub struct Sigmoid(DMatrix<f32>);
impl Layer for Sigmoid {
    fn forward(&mut self, x: DMatrix<f32>) -> DMatrix<f32> {
        let y = x.map(|v| 1.0 / (1.0 + (-v).exp()));
        self.0 = y.clone();
        y
    }
    fn backward(&mut self, dy: DMatrix<f32>) -> DMatrix<f32> {
        dy.zip_map(&self.0, |g, y| g * y * (1.0 - y))
    }
}

/// Softmax per column; its backward expects dLoss/dLogits from the fused cross-entropy.
#[derive(Default)]
pub struct Softmax;
impl Layer for Softmax {
    fn forward(&mut self, mut x: DMatrix<f32>) -> DMatrix<f32> {
        for mut col in x.column_iter_mut() {
            let m = col.max();
            col.apply(|v| *v = (*v - m).exp());
            let s = col.sum();
            col /= s;
        }
        x
    }
    fn backward(&mut self, dy: DMatrix<f32>) -> DMatrix<f32> {
        dy
    }
}

/// The network: layers in order.
pub struct DynNet(pub Vec<Box<dyn Layer>>);

impl DynNet {
    /// Inference.
    pub fn forward(&mut self, x: &DMatrix<f32>) -> DMatrix<f32> {
        let mut a = x.clone();
        for l in &mut self.0 {
            a = l.forward(a);
        }
        a
    }
    /// One SGD step with softmax + cross-entropy (`softmax_ce`) or MSE.
    pub fn train_step(&mut self, x: &DMatrix<f32>, y: &DMatrix<f32>, softmax_ce: bool, lr: f32) {
        let out = self.forward(x);
        let n = if softmax_ce { out.ncols() } else { out.len() } as f32;
        let k = if softmax_ce { 1.0 } else { 2.0 };
        let mut d = (out - y) * (k / n);
        for l in self.0.iter_mut().rev() {
            d = l.backward(d);
        }
        for l in &mut self.0 {
            l.sgd(lr);
        }
    }
}
