//! Every schedule against torch.optim.lr_scheduler 2.15 (values recorded by
//! tests/reference/optim_reference.py into tests/reference/optim_values.rs).

mod common;

use common::Toy;
use nn_runtime::optim::{Optimizer, Sgd};
use nn_runtime::schedule::{
    Constant, CosineAnnealingLr, CosineAnnealingWarmRestarts, ExponentialLr, LinearLr, LrSchedule,
    PlateauMode, ReduceLrOnPlateau, ScheduleError, SequentialLr, StepLr, ThresholdMode,
};

#[allow(dead_code, clippy::excessive_precision, clippy::unreadable_literal)]
mod reference {
    include!("reference/optim_values.rs");
}
use reference::*;

/// Learning rates at epochs 0..=n: `lr()` before any step, then after each step.
fn trace(mut s: impl LrSchedule, n: usize, metrics: Option<&[f64]>) -> Vec<f64> {
    let mut out = vec![s.lr()];
    for e in 0..n {
        let lr = s.step(metrics.map(|m| m[e]));
        assert_eq!(lr, s.lr(), "step returns the new rate");
        out.push(lr);
    }
    out
}

fn assert_lrs(name: &str, got: &[f64], expected: &[f64]) {
    assert_eq!(got.len(), expected.len(), "{name}: length");
    for (e, (g, x)) in got.iter().zip(expected).enumerate() {
        let err = (g - x).abs() / x.abs().max(1e-12);
        assert!(
            err <= 1e-9,
            "{name}: epoch {e}: got {g}, PyTorch {x} (relative error {err:e})"
        );
    }
}

#[test]
fn step_lr() {
    assert_lrs(
        "StepLR",
        &trace(StepLr::new(0.1, 3).gamma(0.5), 12, None),
        &SCHED_STEP,
    );
    assert_lrs(
        "StepLR default gamma",
        &trace(StepLr::new(0.1, 2), 7, None),
        &SCHED_STEP_DEFAULT_GAMMA,
    );
}

#[test]
fn exponential_lr() {
    assert_lrs(
        "ExponentialLR",
        &trace(ExponentialLr::new(0.1, 0.9), 10, None),
        &SCHED_EXPONENTIAL,
    );
}

#[test]
fn cosine_annealing_lr_past_t_max() {
    let s = CosineAnnealingLr::new(0.1, 10).eta_min(0.001);
    assert_lrs("CosineAnnealingLR", &trace(s, 25, None), &SCHED_COSINE);
}

#[test]
fn cosine_annealing_warm_restarts() {
    let s = CosineAnnealingWarmRestarts::new(0.1, 3)
        .t_mult(2)
        .eta_min(0.01);
    assert_lrs(
        "CosineAnnealingWarmRestarts",
        &trace(s, 25, None),
        &SCHED_WARM_RESTARTS,
    );
    assert_lrs(
        "CosineAnnealingWarmRestarts T_mult=1",
        &trace(CosineAnnealingWarmRestarts::new(0.1, 4), 10, None),
        &SCHED_WARM_RESTARTS_T_MULT_1,
    );
    let mut s = CosineAnnealingWarmRestarts::new(0.1, 3).t_mult(2);
    for _ in 0..4 {
        s.step(None);
    }
    assert_eq!((s.t_cur(), s.t_i(), s.epoch()), (1, 6, 4));
}

#[test]
fn linear_lr() {
    assert_lrs(
        "LinearLR defaults",
        &trace(LinearLr::new(0.1), 8, None),
        &SCHED_LINEAR_DEFAULT,
    );
    let s = LinearLr::new(0.1)
        .start_factor(0.25)
        .end_factor(0.75)
        .total_iters(4);
    assert_lrs("LinearLR", &trace(s, 8, None), &SCHED_LINEAR);
}

#[test]
fn sequential_lr() {
    let s = SequentialLr::new(LinearLr::new(0.1).start_factor(0.1).total_iters(5))
        .then(5, CosineAnnealingLr::new(0.1, 10));
    assert_lrs("SequentialLR", &trace(s, 20, None), &SCHED_SEQUENTIAL);
    let s = SequentialLr::new(LinearLr::new(0.1).start_factor(0.5).total_iters(2))
        .then(3, ExponentialLr::new(0.1, 0.8))
        .then(8, StepLr::new(0.1, 2).gamma(0.5));
    assert_eq!(s.milestones(), &[3, 8]);
    assert_lrs("SequentialLR x3", &trace(s, 14, None), &SCHED_SEQUENTIAL_3);
}

#[test]
fn sequential_lr_rejects_unordered_milestones() {
    let s = SequentialLr::new(Constant::new(0.1)).then(5, Constant::new(0.2));
    assert_eq!(
        s.try_then(5, Constant::new(0.3)).err(),
        Some(ScheduleError::MilestoneOrder {
            milestone: 5,
            previous: 5
        })
    );
    assert!(SequentialLr::new(Constant::new(0.1))
        .try_then(0, Constant::new(0.2))
        .is_err());
}

#[test]
fn plateau_patience() {
    let s = ReduceLrOnPlateau::new(0.1).patience(2);
    assert_lrs(
        "ReduceLROnPlateau patience=2",
        &trace(s, 20, Some(&PLATEAU_METRICS)),
        &SCHED_PLATEAU_PATIENCE_2,
    );
}

#[test]
fn plateau_cooldown() {
    let s = ReduceLrOnPlateau::new(0.1)
        .factor(0.5)
        .patience(1)
        .cooldown(2);
    assert_lrs(
        "ReduceLROnPlateau cooldown",
        &trace(s, 20, Some(&PLATEAU_METRICS)),
        &SCHED_PLATEAU_COOLDOWN,
    );
}

#[test]
fn plateau_abs_threshold_and_min_lr() {
    let s = ReduceLrOnPlateau::new(0.1)
        .factor(0.2)
        .patience(0)
        .threshold(0.05)
        .threshold_mode(ThresholdMode::Abs)
        .min_lr(0.003);
    assert_lrs(
        "ReduceLROnPlateau abs/min_lr",
        &trace(s, 20, Some(&PLATEAU_METRICS)),
        &SCHED_PLATEAU_ABS_MIN_LR,
    );
}

#[test]
fn plateau_defaults_relative_threshold() {
    assert_lrs(
        "ReduceLROnPlateau defaults",
        &trace(ReduceLrOnPlateau::new(0.1), 30, Some(&PLATEAU_FLAT)),
        &SCHED_PLATEAU_DEFAULTS,
    );
}

#[test]
fn plateau_max_mode_and_eps() {
    let s = ReduceLrOnPlateau::new(0.1)
        .mode(PlateauMode::Max)
        .patience(1)
        .threshold(0.02);
    assert_lrs(
        "ReduceLROnPlateau max",
        &trace(s, 12, Some(&PLATEAU_ACCURACY)),
        &SCHED_PLATEAU_MAX,
    );
    let s = ReduceLrOnPlateau::new(0.1)
        .mode(PlateauMode::Max)
        .patience(0)
        .threshold(0.0)
        .threshold_mode(ThresholdMode::Abs)
        .factor(0.5)
        .eps(0.02);
    assert_lrs(
        "ReduceLROnPlateau max abs eps",
        &trace(s, 12, Some(&PLATEAU_ACCURACY)),
        &SCHED_PLATEAU_MAX_ABS_EPS,
    );
}

#[test]
fn plateau_counters_and_missing_metric() {
    let mut s = ReduceLrOnPlateau::new(0.1).patience(1).cooldown(1);
    s.step(Some(1.0));
    assert_eq!((s.best(), s.num_bad_epochs()), (1.0, 0));
    s.step(Some(1.0));
    assert_eq!(s.num_bad_epochs(), 1);
    assert_eq!(s.step(None), 0.1, "no metric: nothing changes");
    assert_eq!((s.num_bad_epochs(), s.epoch()), (1, 2));
    assert!((s.step(Some(1.0)) - 0.01).abs() < 1e-15);
    assert!(s.in_cooldown());
    // In cooldown: a bad epoch is not counted.
    s.step(Some(2.0));
    assert!(!s.in_cooldown());
    assert_eq!(s.num_bad_epochs(), 0);
}

#[test]
fn constant_and_optimizer_composition() {
    assert_eq!(trace(Constant::new(0.3), 3, None), vec![0.3; 4]);
    let mut opt = Sgd::<Toy<f64>>::new(0.1);
    let mut s = StepLr::new(0.1, 1).gamma(0.5);
    assert_eq!(s.step_optimizer(&mut opt, None), 0.05);
    assert_eq!(opt.lr(), 0.05);
    // Boxed schedules are schedules.
    let mut boxed: Box<dyn LrSchedule> = Box::new(ExponentialLr::new(1.0, 0.5));
    assert_eq!(boxed.step(None), 0.5);
}

#[test]
fn invalid_parameters() {
    assert!(matches!(
        StepLr::try_new(0.1, 0),
        Err(ScheduleError::InvalidParameter {
            name: "step_size",
            ..
        })
    ));
    assert!(CosineAnnealingLr::try_new(0.1, 0).is_err());
    assert!(CosineAnnealingWarmRestarts::try_new(0.1, 0).is_err());
    assert!(ExponentialLr::try_new(-0.1, 0.9).is_err());
    assert!(ReduceLrOnPlateau::try_new(f64::NAN).is_err());
    assert!(Constant::try_new(f64::INFINITY).is_err());
    assert!(LinearLr::try_new(0.1).is_ok());
}

#[test]
#[should_panic(expected = "invalid factor")]
fn plateau_factor_one_panics() {
    let _ = ReduceLrOnPlateau::new(0.1).factor(1.0);
}

#[test]
#[should_panic(expected = "invalid start_factor")]
fn linear_zero_start_factor_panics() {
    let _ = LinearLr::new(0.1).start_factor(0.0);
}
