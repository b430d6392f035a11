//! The `serde` feature: tensors as `{"shape", "data"}` with the data checked against the
//! shape, derived tangent structs, and optimizer state that resumes a run bit for bit.
#![cfg(feature = "serde")]

use grad::optim::{Adam, AdamW, Sgd};
use grad::{Differentiable, Tangent, Tensor};
use serde::{Deserialize, Serialize};
use serde_json::json;

fn bits32(t: &Tensor<f32>) -> Vec<u32> {
    t.as_slice().iter().map(|v| v.to_bits()).collect()
}

fn bits64(t: &Tensor<f64>) -> Vec<u64> {
    t.as_slice().iter().map(|v| v.to_bits()).collect()
}

#[test]
fn tensor_serializes_as_shape_and_row_major_data() {
    let t = Tensor::<f64>::from_vec(vec![1.5, -2.0, 0.25, 4.0, 5.0, 6.5], &[2, 3]).unwrap();
    assert_eq!(
        serde_json::to_value(&t).unwrap(),
        json!({"shape": [2, 3], "data": [1.5, -2.0, 0.25, 4.0, 5.0, 6.5]})
    );
    let s = Tensor::<f32>::scalar(3.0);
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        json!({"shape": [], "data": [3.0]})
    );
}

#[test]
fn tensor_round_trips_bit_exactly() {
    let a = Tensor::<f32>::randn(&[3, 4, 5], 7);
    let back: Tensor<f32> = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    assert_eq!(back.shape(), [3, 4, 5]);
    assert_eq!(bits32(&back), bits32(&a));

    let b = Tensor::<f64>::randn(&[17], 8);
    let back: Tensor<f64> = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
    assert_eq!(back.shape(), [17]);
    assert_eq!(bits64(&back), bits64(&b));
}

#[test]
fn tensor_with_data_disagreeing_with_its_shape_is_an_error() {
    let short = serde_json::from_str::<Tensor<f32>>(r#"{"shape": [2, 3], "data": [1, 2, 3]}"#);
    let msg = short.unwrap_err().to_string();
    assert!(
        msg.contains("3 elements") && msg.contains("[2, 3]"),
        "{msg}"
    );

    let long = serde_json::from_str::<Tensor<f64>>(r#"{"shape": [], "data": [1, 2]}"#);
    let msg = long.unwrap_err().to_string();
    assert!(msg.contains("2 elements") && msg.contains("[]"), "{msg}");

    let huge = format!(r#"{{"shape": [{}, 2], "data": []}}"#, usize::MAX);
    let msg = serde_json::from_str::<Tensor<f32>>(&huge)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("overflows"), "{msg}");

    let no_data = serde_json::from_str::<Tensor<f32>>(r#"{"shape": [1]}"#);
    assert!(
        no_data
            .unwrap_err()
            .to_string()
            .contains("missing field `data`")
    );

    let extra = serde_json::from_str::<Tensor<f32>>(r#"{"shape": [1], "data": [1], "x": 0}"#);
    assert!(extra.unwrap_err().to_string().contains("unknown field `x`"));
}

/// A model deriving both `Differentiable` and serde's traits, as DESIGN §10 promises.
#[derive(Differentiable, Serialize, Deserialize, Clone, Debug)]
struct Model {
    w: Tensor<f64>,
    layers: Vec<Tensor<f32>>,
    pair: (f64, [f32; 2]),
    #[no_grad]
    label: String,
    steps: usize,
}

fn model() -> Model {
    Model {
        w: Tensor::randn(&[2, 2], 1),
        layers: vec![Tensor::randn(&[3], 2), Tensor::randn(&[1, 2], 3)],
        pair: (0.1, [0.2, -0.3]),
        label: "m".into(),
        steps: 4,
    }
}

#[test]
fn derived_tangent_struct_serializes_field_by_field() {
    let mut t = model().zero_tangent();
    t.w = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    t.layers[1] = Tensor::from_vec(vec![0.5, -0.5], &[1, 2]).unwrap();
    t.pair = (0.125, [1.0, 2.0]);
    assert_eq!(
        serde_json::to_value(&t).unwrap(),
        json!({
            "w": {"shape": [2, 2], "data": [1.0, 2.0, 3.0, 4.0]},
            "layers": [
                {"shape": [3], "data": [0.0, 0.0, 0.0]},
                {"shape": [1, 2], "data": [0.5, -0.5]},
            ],
            "pair": [0.125, [1.0, 2.0]],
            "label": null,
            "steps": null,
        })
    );
    let back: ModelTangent = serde_json::from_value(serde_json::to_value(&t).unwrap()).unwrap();
    assert_eq!(bits64(&back.w), bits64(&t.w));
    assert_eq!(bits32(&back.layers[1]), bits32(&t.layers[1]));
    assert_eq!(back.pair.0.to_bits(), 0.125f64.to_bits());
    // The components in visiting order agree exactly.
    assert_eq!(back.dot(&back), t.dot(&t));
}

/// A struct with nalgebra fields: its tangent serializes through nalgebra's serde support.
#[derive(Differentiable, Clone, Debug)]
struct Frame {
    origin: grad::nalgebra::Vector3<f64>,
    basis: grad::nalgebra::DMatrix<f32>,
}

#[test]
fn derived_tangent_with_nalgebra_fields_round_trips() {
    let f = Frame {
        origin: grad::nalgebra::Vector3::new(0.1, -2.0, 3.5),
        basis: grad::nalgebra::DMatrix::from_row_slice(2, 3, &[1.0, 0.5, 0.25, -1.0, 7.0, 0.1]),
    };
    let mut t = f.zero_tangent();
    t.origin = f.origin;
    t.basis = f.basis.clone();
    let back: FrameTangent = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
    assert_eq!(back.origin, f.origin);
    assert_eq!(back.basis, f.basis);
    assert_eq!(back.basis.shape(), (2, 3));
}

#[test]
fn derived_tangent_with_a_mismatched_tensor_is_an_error() {
    let bad = json!({
        "w": {"shape": [2, 2], "data": [1.0]},
        "layers": [], "pair": [0.0, [0.0, 0.0]], "label": null, "steps": null,
    });
    let msg = serde_json::from_value::<ModelTangent>(bad)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("1 elements") && msg.contains("[2, 2]"),
        "{msg}"
    );
}

/// A differentiable type whose tangent has no serde impls: a struct holding it still
/// derives `Differentiable` (its tangent is simply not serializable).
#[derive(Clone, Debug)]
struct Opaque(f64);

#[derive(Clone, Debug)]
struct OpaqueTangent(f64);

impl Tangent for OpaqueTangent {
    fn add_assign(&mut self, other: Self) {
        self.0 += other.0;
    }
    fn scale(&mut self, factor: f64) {
        self.0 *= factor;
    }
    fn visit(&self, f: &mut dyn FnMut(grad::Flat<'_>)) {
        f(grad::Flat::F64(std::slice::from_ref(&self.0)));
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(grad::FlatMut<'_>)) {
        f(grad::FlatMut::F64(std::slice::from_mut(&mut self.0)));
    }
}

impl Differentiable for Opaque {
    type Tangent = OpaqueTangent;
    fn zero_tangent(&self) -> OpaqueTangent {
        OpaqueTangent(0.0)
    }
    fn move_along(&mut self, d: &OpaqueTangent) {
        self.0 += d.0;
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(grad::FlatMut<'_>)) {
        f(grad::FlatMut::F64(std::slice::from_mut(&mut self.0)));
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], grad::Flat<'_>)) {
        f(name, &[], grad::Flat::F64(std::slice::from_ref(&self.0)));
    }
}

#[derive(Differentiable, Clone, Debug)]
struct HoldsOpaque {
    o: Opaque,
    k: f64,
}

#[test]
fn derive_without_serializable_tangents_still_differentiates() {
    let mut h = HoldsOpaque {
        o: Opaque(1.0),
        k: 2.0,
    };
    let mut d = h.zero_tangent();
    d.o = OpaqueTangent(0.5);
    d.k = -1.0;
    h.move_along(&d);
    assert_eq!((h.o.0, h.k), (1.5, 1.0));
}

/// The parameters the optimizer tests train: a tensor and a scalar.
type Params = (Tensor<f64>, f32);

/// A deterministic nonlinear gradient of the parameters `(w, b)`:
/// g_w = 2 (w - 1) + 0.3 cos(w), g_b = 2 b - 0.5 (b > 0 case of a kink).
fn gradient(p: &Params) -> Params {
    let gw: Vec<f64> =
        p.0.as_slice()
            .iter()
            .map(|&w| 2.0 * (w - 1.0) + 0.3 * w.cos())
            .collect();
    let gb = 2.0 * p.1 - if p.1 > 0.0 { 0.5 } else { 0.0 };
    (Tensor::from_vec(gw, p.0.shape()).unwrap(), gb)
}

/// Runs `steps` steps of `opt` from `p`.
fn run<O>(p: &mut Params, opt: &mut O, steps: usize)
where
    O: FnMut(&mut Params, &Params),
{
    for _ in 0..steps {
        let g = gradient(p);
        opt(p, &g);
    }
}

/// Trains 40 steps straight, and 15 steps, a save of parameters and optimizer to JSON,
/// a load into fresh values and 25 more steps: the two end states agree in every bit.
fn resumes_bit_identically<O>(fresh: O, step: fn(&mut O, &mut Params, &Params))
where
    O: Serialize + for<'de> Deserialize<'de>,
{
    let start = (Tensor::<f64>::randn(&[4, 3], 11), 0.75f32);

    let mut straight = (start.0.clone(), start.1);
    let mut opt = fresh;
    let snapshot = serde_json::to_string(&opt).unwrap();
    run(&mut straight, &mut |p, g| step(&mut opt, p, g), 40);

    let mut first = (start.0.clone(), start.1);
    let mut opt1: O = serde_json::from_str(&snapshot).unwrap();
    run(&mut first, &mut |p, g| step(&mut opt1, p, g), 15);
    let saved = serde_json::to_string(&(&first, &opt1)).unwrap();
    drop((first, opt1));

    let (mut resumed, mut opt2): (Params, O) = serde_json::from_str(&saved).unwrap();
    run(&mut resumed, &mut |p, g| step(&mut opt2, p, g), 25);

    assert_eq!(bits64(&resumed.0), bits64(&straight.0));
    assert_eq!(resumed.1.to_bits(), straight.1.to_bits());
    // The run moved: this is not the comparison of two untouched starting points.
    assert_ne!(bits64(&straight.0), bits64(&start.0));
}

#[test]
fn resumed_adam_run_is_bit_identical_to_an_uninterrupted_one() {
    resumes_bit_identically(Adam::new(0.05).weight_decay(1e-3), |o, p, g| o.step(p, g));
}

#[test]
fn resumed_adamw_and_momentum_sgd_runs_are_bit_identical() {
    resumes_bit_identically(AdamW::new(0.05), |o, p, g| o.step(p, g));
    resumes_bit_identically(Sgd::new(0.01).momentum(0.9), |o, p, g| o.step(p, g));
}

#[test]
fn adam_state_records_its_moments_and_step_count() {
    let mut p = [1.0f64, -2.0];
    let mut opt = Adam::new(0.1);
    opt.step(&mut p, &[0.5, -4.0]);
    let v = serde_json::to_value(&opt).unwrap();
    // After one step: m = (1 - β₁) g = 0.1 g, v = (1 - β₂) g² = 0.001 g², t = 1.
    assert_eq!(v["t"], json!(1));
    let m: Vec<f64> = serde_json::from_value(v["m"].clone()).unwrap();
    let s: Vec<f64> = serde_json::from_value(v["v"].clone()).unwrap();
    assert_eq!(m, [(1.0 - 0.9) * 0.5, (1.0 - 0.9) * -4.0]);
    assert_eq!(s, [(1.0 - 0.999) * 0.25, (1.0 - 0.999) * 16.0]);
    assert_eq!(v["lr"], json!(0.1));
}
