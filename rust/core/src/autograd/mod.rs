//! Autograd: the dynamic graph, in Rust.
//!
//! Differentiable ops live in [`functions`]: each computes with the plain kernels of
//! [`crate::ops`] and, when grad mode is on and an input requires grad, records a [`Node`]
//! holding its backward rule ([`record`]). Rules are written with the same differentiable
//! functions, so `create_graph=True` gives higher-order gradients. [`engine`] runs the graph;
//! [`api`] is `backward()` / `autograd.grad()`. Raw `ops` never record: code that wants
//! gradients calls `functions`.

pub mod api;
pub mod autocast;
pub mod engine;
pub mod functions;
pub mod grad_mode;
pub mod meta;
pub mod node;
pub mod record;
pub mod view;

pub use grad_mode::{
    is_anomaly_enabled, is_grad_enabled, is_inference_mode_enabled, no_grad, set_anomaly_enabled,
    set_grad_enabled, set_inference_mode, GradModeGuard,
};
pub use meta::{AutogradMeta, PostAccumulateHook, TensorHook};
pub use node::{BackwardArgs, Edge, Grads, InputMeta, Node, Save};
pub use record::{inplace, needs_grad, record, record1};
