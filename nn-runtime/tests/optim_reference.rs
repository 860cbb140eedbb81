//! Every optimizer and option against torch.optim (and the reference AdaBound): in f64,
//! relative error <= 1e-6 per parameter per step; the same optimizers on f32 parameters
//! follow the f64 reference to 1e-4. Expected numbers:
//! tests/reference/optim_values.rs, produced by tests/reference/optim_reference.py.

mod common;

use common::Toy;
use nn_runtime::optim::{
    clip_grad_norm, clip_grad_value, AdaBound, AdaBoundConfig, Adagrad, AdagradConfig, Adam,
    AdamConfig, AdamW, OptimError, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use nn_runtime::Parameters;

#[allow(dead_code, clippy::excessive_precision, clippy::unreadable_literal)]
mod reference {
    include!("reference/optim_values.rs");
}
use reference::*;

type Net = Toy<f64>;

fn start<T: nn_runtime::Scalar>() -> Toy<T> {
    let mut b = [0.0; 2];
    b.copy_from_slice(&B0);
    Toy::from_f64(&W0_COLUMN_MAJOR, &b)
}

/// Runs `STEPS` steps, changing the learning rate before the steps listed.
fn run<T: nn_runtime::Scalar, O: Optimizer<Toy<T>>>(
    opt: &mut O,
    lr_changes: &[(usize, f64)],
) -> Vec<[f64; 8]> {
    let mut net = start::<T>();
    let mut grads = Toy::<T>::default();
    let mut out = Vec::new();
    for k in 0..STEPS {
        if let Some(&(_, lr)) = lr_changes.iter().find(|(s, _)| *s == k) {
            opt.set_lr(lr);
        }
        net.gradients_into(&X[k], &Y[k], &mut grads);
        opt.step(&mut net, &grads);
        out.push(net.values());
    }
    out
}

fn assert_close(name: &str, got: &[[f64; 8]], expected: &[[f64; 8]; STEPS], rel: f64) {
    let start = start::<f64>().values();
    for (k, (g, e)) in got.iter().zip(expected).enumerate() {
        for i in 0..8 {
            let err = (g[i] - e[i]).abs() / e[i].abs().max(1e-3);
            assert!(
                err <= rel,
                "{name}: step {k}, element {i}: got {}, PyTorch {}, relative error {err:e}",
                g[i],
                e[i]
            );
        }
    }
    // The trajectory really moves every parameter.
    let last = expected[STEPS - 1];
    assert!(
        (0..8).all(|i| last[i] != start[i]),
        "{name}: a parameter did not move"
    );
}

fn check<O: Optimizer<Net>>(name: &str, mut opt: O, expected: &[[f64; 8]; STEPS]) {
    let got = run::<f64, _>(&mut opt, &[]);
    assert_close(name, &got, expected, 1e-6);
    assert_eq!(opt.steps(), STEPS as u64);
}

fn check_f32<O: Optimizer<Toy<f32>>>(name: &str, mut opt: O, expected: &[[f64; 8]; STEPS]) {
    let got = run::<f32, _>(&mut opt, &[]);
    assert_close(&format!("{name} (f32)"), &got, expected, 1e-4);
}

/// Checks the f64 run to 1e-6 and the same optimizer on f32 to 1e-4.
macro_rules! check {
    ($name:expr, $opt:expr, $expected:expr $(,)?) => {{
        check($name, $opt, $expected);
        check_f32($name, $opt, $expected);
    }};
}

const LR_CHANGES: [(usize, f64); 2] = [(3, 0.005), (5, 0.0025)];

#[test]
fn sgd_plain() {
    check!("SGD_PLAIN", Sgd::new(0.1), &SGD_PLAIN);
}

#[test]
fn sgd_momentum() {
    check!("SGD_MOMENTUM", Sgd::new(0.05).momentum(0.9), &SGD_MOMENTUM);
}

#[test]
fn sgd_dampening() {
    check!(
        "SGD_DAMPENING",
        Sgd::new(0.05).momentum(0.8).dampening(0.3),
        &SGD_DAMPENING,
    );
}

#[test]
fn sgd_nesterov() {
    check!(
        "SGD_NESTEROV",
        Sgd::new(0.05).momentum(0.9).nesterov(true),
        &SGD_NESTEROV,
    );
}

#[test]
fn sgd_weight_decay_all_and_weights_only() {
    check!(
        "SGD_WD_ALL",
        Sgd::new(0.05)
            .momentum(0.5)
            .weight_decay(0.2)
            .decay_biases(true),
        &SGD_WD_ALL
    );
    check!(
        "SGD_WD_WEIGHTS",
        Sgd::new(0.05).momentum(0.5).weight_decay(0.2),
        &SGD_WD_WEIGHTS
    );
}

#[test]
fn sgd_lr_changes() {
    let mut opt = Sgd::<Net>::new(0.01).momentum(0.9);
    let got = run::<f64, _>(&mut opt, &LR_CHANGES);
    assert_close("SGD_LR_CHANGES", &got, &SGD_LR_CHANGES, 1e-6);
}

#[test]
fn adagrad_default() {
    check!("ADAGRAD_DEFAULT", Adagrad::new(0.1), &ADAGRAD_DEFAULT);
}

#[test]
fn adagrad_options() {
    check!(
        "ADAGRAD_OPTIONS",
        Adagrad::new(0.2)
            .lr_decay(0.05)
            .initial_accumulator_value(0.1)
            .eps(1e-6),
        &ADAGRAD_OPTIONS
    );
}

#[test]
fn adagrad_weight_decay() {
    check!(
        "ADAGRAD_WD_ALL",
        Adagrad::new(0.1).weight_decay(0.3).decay_biases(true),
        &ADAGRAD_WD_ALL
    );
    check!(
        "ADAGRAD_WD_WEIGHTS",
        Adagrad::new(0.1).weight_decay(0.3),
        &ADAGRAD_WD_WEIGHTS,
    );
}

#[test]
fn rmsprop_default() {
    check!("RMSPROP_DEFAULT", RmsProp::new(0.01), &RMSPROP_DEFAULT);
}

#[test]
fn rmsprop_momentum() {
    check!(
        "RMSPROP_MOMENTUM",
        RmsProp::new(0.01).alpha(0.9).momentum(0.5),
        &RMSPROP_MOMENTUM,
    );
}

#[test]
fn rmsprop_centered() {
    check!(
        "RMSPROP_CENTERED",
        RmsProp::new(0.01).centered(true).eps(1e-6),
        &RMSPROP_CENTERED,
    );
}

#[test]
fn rmsprop_centered_momentum_weight_decay() {
    check!(
        "RMSPROP_CENTERED_MOMENTUM_WD_ALL",
        RmsProp::new(0.01)
            .alpha(0.95)
            .centered(true)
            .momentum(0.7)
            .weight_decay(0.1)
            .decay_biases(true),
        &RMSPROP_CENTERED_MOMENTUM_WD_ALL
    );
    check!(
        "RMSPROP_WD_WEIGHTS",
        RmsProp::new(0.01).weight_decay(0.1),
        &RMSPROP_WD_WEIGHTS,
    );
}

#[test]
fn adam_default() {
    check!("ADAM_DEFAULT", Adam::new(0.01), &ADAM_DEFAULT);
}

#[test]
fn adam_amsgrad() {
    check!("ADAM_AMSGRAD", Adam::new(0.01).amsgrad(true), &ADAM_AMSGRAD);
}

#[test]
fn adam_options_and_weight_decay() {
    check!(
        "ADAM_OPTIONS_WD_ALL",
        Adam::new(0.02)
            .betas(0.8, 0.99)
            .eps(1e-6)
            .weight_decay(0.1)
            .decay_biases(true),
        &ADAM_OPTIONS_WD_ALL
    );
    check!(
        "ADAM_WD_WEIGHTS",
        Adam::new(0.02).betas(0.8, 0.99).eps(1e-6).weight_decay(0.1),
        &ADAM_WD_WEIGHTS
    );
}

#[test]
fn adam_lr_changes() {
    let mut opt = Adam::<Net>::new(0.01);
    let got = run::<f64, _>(&mut opt, &LR_CHANGES);
    assert_close("ADAM_LR_CHANGES", &got, &ADAM_LR_CHANGES, 1e-6);
}

#[test]
fn adam_f32_follows_f64_reference() {
    let mut opt = Adam::<Toy<f32>>::new(0.01).amsgrad(true);
    let got = run::<f32, _>(&mut opt, &[]);
    assert_close("ADAM_AMSGRAD f32", &got, &ADAM_AMSGRAD, 1e-4);
}

#[test]
fn adamw_default_decays_weights_only_unless_asked() {
    check!(
        "ADAMW_DEFAULT_ALL",
        AdamW::new(0.01).decay_biases(true),
        &ADAMW_DEFAULT_ALL,
    );
    check!("ADAMW_WD_WEIGHTS", AdamW::new(0.01), &ADAMW_WD_WEIGHTS);
    assert_eq!(AdamW::<Net>::new(0.01).config().weight_decay, 1e-2);
}

#[test]
fn adamw_amsgrad() {
    check!(
        "ADAMW_AMSGRAD_WD_ALL",
        AdamW::new(0.05)
            .weight_decay(0.3)
            .amsgrad(true)
            .decay_biases(true),
        &ADAMW_AMSGRAD_WD_ALL
    );
}

#[test]
fn adabound_default() {
    check!("ADABOUND_DEFAULT", AdaBound::new(1e-3), &ADABOUND_DEFAULT);
}

#[test]
fn adabound_bounds_bite() {
    check!(
        "ADABOUND_BOUNDS",
        AdaBound::new(0.01).final_lr(0.05).gamma(0.5),
        &ADABOUND_BOUNDS,
    );
}

#[test]
fn amsbound_weight_decay() {
    check!(
        "AMSBOUND_WD_ALL",
        AdaBound::new(0.01)
            .betas(0.8, 0.99)
            .final_lr(0.05)
            .gamma(0.5)
            .eps(1e-6)
            .weight_decay(0.1)
            .amsbound(true)
            .decay_biases(true),
        &AMSBOUND_WD_ALL
    );
    check!(
        "ADABOUND_WD_WEIGHTS",
        AdaBound::new(0.01)
            .final_lr(0.05)
            .gamma(0.5)
            .weight_decay(0.1),
        &ADABOUND_WD_WEIGHTS
    );
}

#[test]
fn adabound_lr_changes_scale_the_bounds() {
    let mut opt = AdaBound::<Net>::new(0.01).final_lr(0.05).gamma(0.5);
    let got = run::<f64, _>(&mut opt, &LR_CHANGES);
    assert_close("ADABOUND_LR_CHANGES", &got, &ADABOUND_LR_CHANGES, 1e-6);
    assert_eq!(opt.base_lr(), 0.01);
    assert_eq!(opt.lr(), 0.0025);
}

#[test]
fn weight_decay_switch_changes_only_biases() {
    // With zero gradients, L2 decay moves only decayed tensors.
    let mut net = start::<f64>();
    let zero = Net::default();
    let mut opt = Sgd::new(0.1).weight_decay(0.5);
    opt.step(&mut net, &zero);
    assert_eq!(net.b, start::<f64>().b);
    assert!((net.w[0] - start::<f64>().w[0] * 0.95).abs() < 1e-15);
    let mut opt = Sgd::new(0.1).weight_decay(0.5).decay_biases(true);
    let mut net = start::<f64>();
    opt.step(&mut net, &zero);
    assert!((net.b[1] - start::<f64>().b[1] * 0.95).abs() < 1e-15);
}

/// Runs 3 steps, copies the state into a fresh optimizer (a checkpoint round trip), runs
/// the remaining steps there: the result equals the uninterrupted run.
fn resume_matches<O: Optimizer<Net>>(make: impl Fn() -> O, names: &[&str]) {
    let mut whole = make();
    let expected = run::<f64, _>(&mut whole, &[]);

    let mut first = make();
    let mut net = start::<f64>();
    let mut grads = Net::default();
    for k in 0..3 {
        net.gradients_into(&X[k], &Y[k], &mut grads);
        first.step(&mut net, &grads);
    }
    let saved: Vec<(&str, Net)> = first.state().into_iter().map(|(n, s)| (n, *s)).collect();
    assert_eq!(saved.iter().map(|(n, _)| *n).collect::<Vec<_>>(), names);
    let mut second = make();
    second.set_steps(first.steps());
    for ((name, dst), (saved_name, src)) in second.state_mut().into_iter().zip(&saved) {
        assert_eq!(name, *saved_name);
        dst.copy_from(src);
    }
    for k in 3..STEPS {
        net.gradients_into(&X[k], &Y[k], &mut grads);
        second.step(&mut net, &grads);
    }
    assert_eq!(net.values(), expected[STEPS - 1]);
}

#[test]
fn state_round_trip_resumes_exactly() {
    resume_matches(|| Sgd::new(0.05).momentum(0.9), &["momentum_buffer"]);
    resume_matches(|| Sgd::new(0.05), &[]);
    resume_matches(|| Adagrad::new(0.1).lr_decay(0.1), &["sum"]);
    resume_matches(
        || RmsProp::new(0.01).momentum(0.5).centered(true),
        &["square_avg", "momentum_buffer", "grad_avg"],
    );
    resume_matches(|| RmsProp::new(0.01), &["square_avg"]);
    resume_matches(
        || Adam::new(0.01).amsgrad(true),
        &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
    );
    resume_matches(|| AdamW::new(0.01), &["exp_avg", "exp_avg_sq"]);
    resume_matches(
        || AdaBound::new(0.01).gamma(0.5).amsbound(true),
        &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
    );
}

#[test]
fn optimizers_chosen_at_run_time() {
    let mut opts: Vec<Box<dyn Optimizer<Net>>> = vec![
        Box::new(Sgd::new(0.05).momentum(0.9)),
        Box::new(Adam::new(0.01).amsgrad(true)),
    ];
    let got = run::<f64, _>(&mut opts[0], &[]);
    assert_close("boxed SGD_MOMENTUM", &got, &SGD_MOMENTUM, 1e-6);
    let got = run::<f64, _>(&mut opts[1], &[]);
    assert_close("boxed ADAM_AMSGRAD", &got, &ADAM_AMSGRAD, 1e-6);
    let mut schedule = nn_runtime::schedule::StepLr::new(0.1, 1).gamma(0.5);
    let opt: &mut dyn Optimizer<Net> = &mut *opts[0];
    nn_runtime::schedule::LrSchedule::step_optimizer(&mut schedule, opt, None);
    assert_eq!(opts[0].lr(), 0.05);
}

#[test]
fn state_tensors_carry_the_network_layout() {
    let opt = Adam::<Net>::new(0.01);
    let state = opt.state();
    assert_eq!(<Net as Parameters>::tensor_info(0).name, "0.weight");
    assert_eq!(state[0].1.tensor(0).len(), 6);
}

#[test]
fn invalid_hyper_parameters_are_typed_errors() {
    let bad_lr = SgdConfig {
        lr: -0.1,
        ..SgdConfig::default()
    };
    assert!(matches!(
        Sgd::<Net>::try_from_config(bad_lr),
        Err(OptimError::InvalidHyperParameter { name: "lr", .. })
    ));
    let nesterov = SgdConfig {
        lr: 0.1,
        nesterov: true,
        ..SgdConfig::default()
    };
    assert_eq!(
        Sgd::<Net>::try_from_config(nesterov).err(),
        Some(OptimError::NesterovRequiresMomentum)
    );
    let nesterov_dampening = SgdConfig {
        momentum: 0.9,
        dampening: 0.1,
        nesterov: true,
        ..SgdConfig::default()
    };
    assert_eq!(
        nesterov_dampening.validate(),
        Err(OptimError::NesterovRequiresMomentum)
    );
    let beta = AdamConfig {
        betas: (0.9, 1.0),
        ..AdamConfig::default()
    };
    assert!(matches!(
        Adam::<Net>::try_from_config(beta),
        Err(OptimError::InvalidHyperParameter {
            name: "betas[1]",
            ..
        })
    ));
    let nan_eps = AdamConfig {
        eps: f64::NAN,
        ..AdamConfig::adamw()
    };
    assert!(AdamW::<Net>::try_from_config(nan_eps).is_err());
    let alpha = RmsPropConfig {
        alpha: 1.5,
        ..RmsPropConfig::default()
    };
    assert!(RmsProp::<Net>::try_from_config(alpha).is_err());
    let acc = AdagradConfig {
        initial_accumulator_value: -1.0,
        ..AdagradConfig::default()
    };
    assert!(Adagrad::<Net>::try_from_config(acc).is_err());
    let gamma = AdaBoundConfig {
        gamma: 1.0,
        ..AdaBoundConfig::default()
    };
    assert!(matches!(
        AdaBound::<Net>::try_from_config(gamma),
        Err(OptimError::InvalidHyperParameter { name: "gamma", .. })
    ));
    let msg = OptimError::NesterovRequiresMomentum.to_string();
    assert!(msg.contains("Nesterov"));
}

#[test]
fn defaults_are_pytorchs() {
    assert_eq!(SgdConfig::default().lr, 1e-3);
    assert_eq!(AdagradConfig::default().eps, 1e-10);
    assert_eq!(AdagradConfig::default().lr, 1e-2);
    let r = RmsPropConfig::default();
    assert_eq!((r.lr, r.alpha, r.eps), (1e-2, 0.99, 1e-8));
    let a = AdamConfig::default();
    assert_eq!(
        (a.lr, a.betas, a.eps, a.weight_decay),
        (1e-3, (0.9, 0.999), 1e-8, 0.0)
    );
    assert_eq!(AdamConfig::adamw().weight_decay, 1e-2);
    let b = AdaBoundConfig::default();
    assert_eq!((b.final_lr, b.gamma, b.eps), (0.1, 1e-3, 1e-8));
    assert!(!SgdConfig::default().decay_biases);
}

#[test]
#[should_panic(expected = "Nesterov momentum requires a momentum")]
fn nesterov_without_momentum_panics() {
    let _ = Sgd::<Net>::new(0.1).nesterov(true);
}

#[test]
#[should_panic(expected = "invalid betas[0]")]
fn beta_one_panics() {
    let _ = Adam::<Net>::new(0.1).betas(1.0, 0.999);
}

#[test]
#[should_panic(expected = "invalid lr")]
fn negative_lr_panics() {
    let _ = Adam::<Net>::new(-1.0);
}

#[test]
#[should_panic(expected = "invalid lr")]
fn negative_set_lr_panics() {
    let mut opt = Sgd::<Net>::new(0.1);
    opt.set_lr(-0.5);
}

fn grads_from(v: &[f64; 8]) -> Net {
    Toy::from_f64(&[v[0], v[1], v[2], v[3], v[4], v[5]], &[v[6], v[7]])
}

#[test]
fn clip_grad_norm_matches_pytorch() {
    let mut g = grads_from(&CLIP_G);
    let total = clip_grad_norm(&mut g, 1.0);
    assert!((total - CLIP_NORM_1_TOTAL).abs() <= 1e-12 * CLIP_NORM_1_TOTAL);
    for (a, b) in g.values().iter().zip(&CLIP_NORM_1) {
        assert!((a - b).abs() <= 1e-12 * b.abs());
    }
    let mut g = grads_from(&CLIP_G);
    let total = clip_grad_norm(&mut g, 10.0);
    assert_eq!(total, CLIP_NORM_LARGE_TOTAL);
    assert_eq!(g.values(), CLIP_NORM_LARGE);
}

#[test]
fn clip_grad_norm_leaves_non_finite_gradients_alone() {
    let mut g = grads_from(&CLIP_G);
    g.b[0] = f64::INFINITY;
    let total = clip_grad_norm(&mut g, 1.0);
    assert!(total.is_infinite());
    assert_eq!(g.w, grads_from(&CLIP_G).w);
    let mut g = grads_from(&CLIP_G);
    clip_grad_norm(&mut g, -1.0);
    assert_eq!(g, grads_from(&CLIP_G));
}

#[test]
fn clip_grad_value_matches_pytorch() {
    let mut g = grads_from(&CLIP_G);
    clip_grad_value(&mut g, 0.5);
    assert_eq!(g.values(), CLIP_VALUE_HALF);
    let mut g = grads_from(&CLIP_G);
    clip_grad_value(&mut g, f64::NAN);
    assert_eq!(g, grads_from(&CLIP_G));
}
