//! Criterion benches of the core: elementwise (add, exp), a reduction (sum), matmul, a strided
//! copy, a convolution, softmax, and the forward + backward of a small MLP through autograd.

use criterion::{criterion_group, criterion_main, Criterion};
use ferrotorch_core::autograd::{api, functions as f};
use ferrotorch_core::ops::convolution::ConvParams;
use ferrotorch_core::{ops, Tensor};
use std::hint::black_box;

fn ramp(n: usize, shape: &[usize]) -> Tensor {
    Tensor::from_vec(
        (0..n).map(|i| (i % 97) as f32 * 0.01).collect::<Vec<f32>>(),
        shape,
    )
    .expect("bench input")
}

fn bench_add(c: &mut Criterion) {
    let a = ramp(1 << 20, &[1 << 20]);
    let b = ramp(1 << 20, &[1 << 20]);
    c.bench_function("add f32 1M", |bch| {
        bch.iter(|| ops::binary::add(black_box(&a), black_box(&b)))
    });
}

fn bench_exp(c: &mut Criterion) {
    let a = ramp(1 << 20, &[1 << 20]);
    c.bench_function("exp f32 1M", |bch| {
        bch.iter(|| ops::unary::exp(black_box(&a), None))
    });
}

fn bench_sum(c: &mut Criterion) {
    let a = ramp(1 << 22, &[1 << 22]);
    c.bench_function("sum f32 4M", |bch| {
        bch.iter(|| ops::reduce::sum(black_box(&a), None, false, None))
    });
}

/// Copy of a transposed 2048x2048 view into contiguous memory (the `contiguous()` path).
fn bench_strided_copy(c: &mut Criterion) {
    let n = 2048;
    let t = ops::shape::transpose(&ramp(n * n, &[n, n]), 0, 1).expect("transpose");
    c.bench_function("contiguous copy of f32 2048x2048 transpose", |bch| {
        bch.iter(|| black_box(&t).contiguous())
    });
}

fn bench_matmul(c: &mut Criterion) {
    for n in [256usize, 1024] {
        let a = ramp(n * n, &[n, n]);
        let b = ramp(n * n, &[n, n]);
        let mut g = c.benchmark_group("matmul f32");
        // Few samples for the large size: one product takes milliseconds.
        g.sample_size(if n >= 1024 { 10 } else { 50 });
        g.throughput(criterion::Throughput::Elements((2 * n * n * n) as u64));
        g.bench_function(format!("{n}x{n}"), |bch| {
            bch.iter(|| ops::matmul::matmul(black_box(&a), black_box(&b)))
        });
        g.finish();
    }
}

/// A CNN layer: 3x3 convolution, 32 -> 64 channels on 64 x 14 x 14, padding 1.
fn bench_conv(c: &mut Criterion) {
    let x = ramp(64 * 32 * 14 * 14, &[64, 32, 14, 14]);
    let w = ramp(64 * 32 * 9, &[64, 32, 3, 3]);
    let p = ConvParams::new(&[1, 1], &[1, 1], &[1, 1], false, &[0, 0], 1).expect("params");
    let mut g = c.benchmark_group("conv2d f32");
    g.sample_size(20);
    g.bench_function("64x32x14x14 3x3 -> 64", |bch| {
        bch.iter(|| ops::convolution::convolution(black_box(&x), black_box(&w), None, &p))
    });
    g.finish();
}

fn bench_softmax(c: &mut Criterion) {
    let x = ramp(1024 * 1024, &[1024, 1024]);
    c.bench_function("softmax f32 1024x1024 rows", |bch| {
        bch.iter(|| ops::softmax::softmax(black_box(&x), -1))
    });
}

/// One training step's autograd work of a 784-512-10 MLP on a batch of 128: forward, loss,
/// backward into the weights' gradients.
fn bench_mlp_backward(c: &mut Criterion) {
    let x = ramp(128 * 784, &[128, 784]);
    let w1 = ramp(784 * 512, &[784, 512]);
    let w2 = ramp(512 * 10, &[512, 10]);
    for w in [&w1, &w2] {
        w.set_requires_grad(true).expect("float weights");
    }
    c.bench_function("MLP 784-512-10 b128 forward + backward", |bch| {
        bch.iter(|| {
            let h = f::unary::relu(&f::matmul::matmul(&x, &w1).expect("mm")).expect("relu");
            let loss = f::reduce::sum(&f::matmul::matmul(&h, &w2).expect("mm"), None, false, None)
                .expect("sum");
            api::backward(&[loss], &[None], None, false, None).expect("backward");
        })
    });
}

criterion_group!(
    benches,
    bench_add,
    bench_exp,
    bench_sum,
    bench_strided_copy,
    bench_matmul,
    bench_conv,
    bench_softmax,
    bench_mlp_backward
);
criterion_main!(benches);
