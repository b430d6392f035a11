//! `grad::io`: parameters saved to safetensors by field path and loaded back bit for bit;
//! every failure an `Err` naming it, with the target untouched; files exchanged with
//! Python's `safetensors` package and numpy.

use grad::io::{Error, load_safetensors, save_safetensors};
use grad::nalgebra::Matrix2x3;
use grad::{Differentiable, Tensor};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

#[derive(Differentiable, Clone, Debug)]
struct Layer {
    w: Tensor<f32>,
    b: Tensor<f32>,
}

#[derive(Differentiable, Clone, Debug)]
struct Model {
    layers: Vec<Layer>,
    head: (f64, Tensor<f64>),
    m: Matrix2x3<f64>,
    #[no_grad]
    label: String,
    steps: usize,
}

/// Values that are exact in binary, so Python and Rust compute them alike:
/// element k of a tensor is `start + k / 4`.
fn ramp32(start: f32, shape: &[usize]) -> Tensor<f32> {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|k| start + k as f32 / 4.0).collect(), shape).unwrap()
}

fn ramp64(start: f64, shape: &[usize]) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|k| start + k as f64 / 4.0).collect(), shape).unwrap()
}

/// The model that the tests save: `layers.0.w` = 0.25 k (2×3), `layers.0.b` = 1 + 0.25 k,
/// `layers.1.w` = -1 + 0.25 k (1×2), `layers.1.b` = [2], `head.0` = -3.5,
/// `head.1` = 10 + 0.25 k (3), `m` = [[1, 2, 3], [4, 5, 6]].
fn model() -> Model {
    Model {
        layers: vec![
            Layer {
                w: ramp32(0.0, &[2, 3]),
                b: ramp32(1.0, &[2]),
            },
            Layer {
                w: ramp32(-1.0, &[1, 2]),
                b: ramp32(2.0, &[1]),
            },
        ],
        head: (-3.5, ramp64(10.0, &[3])),
        m: Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0),
        label: "saved".into(),
        steps: 7,
    }
}

/// A model of `model()`'s shapes, every parameter zero.
fn zeros() -> Model {
    Model {
        layers: vec![
            Layer {
                w: Tensor::zeros(&[2, 3]),
                b: Tensor::zeros(&[2]),
            },
            Layer {
                w: Tensor::zeros(&[1, 2]),
                b: Tensor::zeros(&[1]),
            },
        ],
        head: (0.0, Tensor::zeros(&[3])),
        m: Matrix2x3::zeros(),
        label: "fresh".into(),
        steps: 0,
    }
}

/// Every parameter's bits, in visiting order, with its name.
fn bits(m: &Model) -> Vec<(String, Vec<u64>)> {
    let mut out = Vec::new();
    m.visit_named(&mut String::new(), &mut |name, _, values| {
        let b = match values {
            grad::Flat::F32(s) => s.iter().map(|v| u64::from(v.to_bits())).collect(),
            grad::Flat::F64(s) => s.iter().map(|v| v.to_bits()).collect(),
        };
        out.push((name.to_string(), b));
    });
    out
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grad-io-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The JSON header of a safetensors file: 8 bytes of little-endian length, then the JSON.
fn header(path: &PathBuf) -> Value {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    serde_json::from_slice(&bytes[8..8 + n]).unwrap()
}

/// A tensor's elements as stored in the file, by its header entry.
fn stored_f64(path: &PathBuf, name: &str) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let h = header(path);
    let off = &h[name]["data_offsets"];
    let (a, b) = (
        off[0].as_u64().unwrap() as usize,
        off[1].as_u64().unwrap() as usize,
    );
    bytes[8 + n + a..8 + n + b]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn names_shapes_and_dtypes_follow_the_field_paths() {
    let path = temp("names.safetensors");
    save_safetensors(&model(), &path).unwrap();
    let h = header(&path);
    let mut names: Vec<&str> = h
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "__metadata__")
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "head.0",
            "head.1",
            "layers.0.b",
            "layers.0.w",
            "layers.1.b",
            "layers.1.w",
            "m"
        ]
    );
    assert_eq!(h["layers.0.w"]["dtype"], "F32");
    assert_eq!(h["layers.0.w"]["shape"], serde_json::json!([2, 3]));
    assert_eq!(h["layers.1.b"]["shape"], serde_json::json!([1]));
    assert_eq!(h["head.0"]["dtype"], "F64");
    assert_eq!(h["head.0"]["shape"], serde_json::json!([]));
    assert_eq!(h["m"]["shape"], serde_json::json!([2, 3]));
    // nalgebra stores columns; the file holds rows.
    assert_eq!(stored_f64(&path, "m"), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(stored_f64(&path, "head.0"), [-3.5]);
}

#[test]
fn a_saved_model_loads_back_bit_for_bit() {
    let path = temp("roundtrip.safetensors");
    let saved = model();
    save_safetensors(&saved, &path).unwrap();
    let mut loaded = zeros();
    load_safetensors(&mut loaded, &path).unwrap();
    assert_eq!(bits(&loaded), bits(&saved));
    assert_eq!(loaded.m, saved.m);
    // Fields that are not parameters are not in the file and keep their values.
    assert_eq!((loaded.label.as_str(), loaded.steps), ("fresh", 0));

    // A bare tensor has no field path: its name is "".
    let t = Tensor::<f64>::randn(&[5, 2], 3);
    save_safetensors(&t, &path).unwrap();
    let mut u = Tensor::<f64>::zeros(&[5, 2]);
    load_safetensors(&mut u, &path).unwrap();
    assert_eq!(u, t);
}

/// Loads `path` into a model of `zeros()`'s shapes changed by `edit`, and checks that the
/// error message contains every one of `needles` and the model is as it was.
fn fails_untouched(path: &PathBuf, edit: impl Fn(&mut Model), needles: &[&str]) -> Error {
    let mut target = zeros();
    edit(&mut target);
    // A recognisable state: loading must leave every bit of it.
    target.layers[0].w = ramp32(100.0, &[2, 3]);
    let before = bits(&target);
    let err = load_safetensors(&mut target, path).unwrap_err();
    let msg = err.to_string();
    for n in needles {
        assert!(msg.contains(n), "`{msg}` does not name `{n}`");
    }
    assert_eq!(bits(&target), before, "a failed load changed the target");
    err
}

#[test]
fn a_missing_or_truncated_file_is_an_error_naming_it() {
    let missing = temp("no-such-file.safetensors");
    let e = fails_untouched(&missing, |_| {}, &["no-such-file.safetensors"]);
    assert!(matches!(e, Error::Io { .. }), "{e:?}");

    let path = temp("truncated.safetensors");
    save_safetensors(&model(), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    for cut in [bytes.len() - 4, bytes.len() / 2, 12, 3] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let e = fails_untouched(
            &path,
            |_| {},
            &["truncated.safetensors", "safetensors file"],
        );
        assert!(matches!(e, Error::Format { .. }), "cut at {cut}: {e:?}");
    }
}

#[test]
fn a_missing_name_is_an_error_naming_it() {
    let path = temp("missing-name.safetensors");
    save_safetensors(&model(), &path).unwrap();
    // A third layer that the file does not have; the first two would load.
    let e = fails_untouched(
        &path,
        |m| {
            m.layers.push(Layer {
                w: Tensor::zeros(&[1]),
                b: Tensor::zeros(&[1]),
            })
        },
        &["layers.2.w", "missing-name.safetensors"],
    );
    assert!(matches!(e, Error::Missing { .. }), "{e:?}");
}

#[test]
fn a_wrong_shape_is_an_error_naming_the_tensor_and_both_shapes() {
    let path = temp("shape.safetensors");
    save_safetensors(&model(), &path).unwrap();
    let e = fails_untouched(
        &path,
        |m| m.head.1 = Tensor::zeros(&[4]),
        &["head.1", "[3]", "[4]"],
    );
    assert!(matches!(e, Error::Shape { .. }), "{e:?}");
    // Same element count, other shape: still an error.
    let e = fails_untouched(
        &path,
        |m| m.layers[1].w = Tensor::zeros(&[2, 1]),
        &["layers.1.w", "[1, 2]", "[2, 1]"],
    );
    assert!(matches!(e, Error::Shape { .. }), "{e:?}");
}

#[derive(Differentiable)]
struct Wide {
    w: Tensor<f64>,
}

#[test]
fn a_wrong_dtype_is_an_error_naming_the_tensor_and_both_types() {
    let path = temp("dtype.safetensors");
    save_safetensors(
        &Wide {
            w: ramp64(0.0, &[2]),
        },
        &path,
    )
    .unwrap();
    #[derive(Differentiable)]
    struct Narrow {
        w: Tensor<f32>,
    }
    let mut n = Narrow {
        w: ramp32(5.0, &[2]),
    };
    let e = load_safetensors(&mut n, &path).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("`w`") && msg.contains("F64") && msg.contains("F32"),
        "{msg}"
    );
    assert!(matches!(e, Error::Dtype { .. }), "{e:?}");
    assert_eq!(n.w.to_vec(), [5.0, 5.25]);
}

/// Two parts under one name, which a hand-written `visit_named` can produce.
struct Twice(f64, f64);

impl Differentiable for Twice {
    type Tangent = (f64, f64);
    fn zero_tangent(&self) -> (f64, f64) {
        (0.0, 0.0)
    }
    fn move_along(&mut self, d: &(f64, f64)) {
        self.0 += d.0;
        self.1 += d.1;
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(grad::FlatMut<'_>)) {
        f(grad::FlatMut::F64(std::slice::from_mut(&mut self.0)));
        f(grad::FlatMut::F64(std::slice::from_mut(&mut self.1)));
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], grad::Flat<'_>)) {
        grad::in_field(name, "x", |name| {
            f(name, &[], grad::Flat::F64(std::slice::from_ref(&self.0)));
            f(name, &[], grad::Flat::F64(std::slice::from_ref(&self.1)));
        });
    }
}

/// A hand-written impl that names its parts and relies on the provided
/// `visit_named_mut` (which pairs `visit_named` with `visit_params_mut`).
struct Hand {
    gain: f64,
    kernel: Tensor<f32>,
}

impl Differentiable for Hand {
    type Tangent = (f64, Tensor<f32>);
    fn zero_tangent(&self) -> Self::Tangent {
        (0.0, Tensor::zeros_like(&self.kernel))
    }
    fn move_along(&mut self, d: &Self::Tangent) {
        self.gain += d.0;
        self.kernel.move_along(&d.1);
    }
    fn visit_params_mut(&mut self, f: &mut dyn FnMut(grad::FlatMut<'_>)) {
        self.gain.visit_params_mut(f);
        self.kernel.visit_params_mut(f);
    }
    fn visit_named(&self, name: &mut String, f: &mut dyn FnMut(&str, &[usize], grad::Flat<'_>)) {
        grad::in_field(name, "gain", |name| self.gain.visit_named(name, f));
        grad::in_field(name, "kernel", |name| self.kernel.visit_named(name, f));
    }
}

#[test]
fn a_hand_written_impl_loads_through_the_provided_visit_named_mut() {
    let path = temp("hand.safetensors");
    let saved = Hand {
        gain: -0.375,
        kernel: ramp32(3.0, &[2, 2]),
    };
    save_safetensors(&saved, &path).unwrap();
    assert_eq!(header(&path)["kernel"]["shape"], serde_json::json!([2, 2]));
    let mut h = Hand {
        gain: 0.0,
        kernel: Tensor::zeros(&[2, 2]),
    };
    load_safetensors(&mut h, &path).unwrap();
    assert_eq!(h.gain, -0.375);
    assert_eq!(h.kernel.to_vec(), [3.0, 3.25, 3.5, 3.75]);
}

#[test]
fn two_parameters_with_one_name_are_an_error_and_write_nothing() {
    let path = temp("duplicate.safetensors");
    let e = save_safetensors(&Twice(1.0, 2.0), &path).unwrap_err();
    assert!(
        e.to_string().contains("two parameters are named `x`"),
        "{e}"
    );
    assert!(!path.exists());
}

/// The Python interpreter to use: `GRAD_PYTHON`, else the CI's virtual environment
/// (`.ci/python-env`), else `python3`; `None` (with a printed note) if it lacks numpy or
/// safetensors.
fn python() -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    let py = std::env::var_os("GRAD_PYTHON")
        .map(PathBuf::from)
        .or_else(|| venv.exists().then_some(venv))
        .unwrap_or_else(|| PathBuf::from("python3"));
    let ok = Command::new(&py)
        .args(["-c", "import numpy, safetensors.numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!(
            "note: skipped, {} lacks numpy or safetensors (run .ci/python-env, or set GRAD_PYTHON)",
            py.display()
        );
    }
    ok.then_some(py)
}

fn run_python(py: &PathBuf, script: &str, path: &PathBuf) {
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Python reads the file grad wrote and checks every name, dtype, shape and value against
/// numpy's own computation of `model()`'s values.
const PY_READ: &str = r#"
import sys, numpy as np
from safetensors.numpy import load_file
t = load_file(sys.argv[1])
def ramp(start, shape, dtype):
    return (start + np.arange(int(np.prod(shape))) / 4).astype(dtype).reshape(shape)
expected = {
    "layers.0.w": ramp(0, (2, 3), np.float32),
    "layers.0.b": ramp(1, (2,), np.float32),
    "layers.1.w": ramp(-1, (1, 2), np.float32),
    "layers.1.b": ramp(2, (1,), np.float32),
    "head.0": np.array(-3.5, dtype=np.float64),
    "head.1": ramp(10, (3,), np.float64),
    "m": np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float64),
}
assert sorted(t) == sorted(expected), sorted(t)
for k, v in expected.items():
    assert t[k].dtype == v.dtype, (k, t[k].dtype)
    assert t[k].shape == v.shape, (k, t[k].shape)
    assert np.array_equal(t[k], v), (k, t[k], v)
"#;

/// Python writes a file for `zeros()`'s shapes: element k of each tensor is `-k / 8`,
/// `head.0` is 0.75, `m` is [[6, 5, 4], [3, 2, 1]].
const PY_WRITE: &str = r#"
import sys, numpy as np
from safetensors.numpy import save_file
def ramp(shape, dtype):
    return (-np.arange(int(np.prod(shape))) / 8).astype(dtype).reshape(shape)
save_file({
    "layers.0.w": ramp((2, 3), np.float32),
    "layers.0.b": ramp((2,), np.float32),
    "layers.1.w": ramp((1, 2), np.float32),
    "layers.1.b": ramp((1,), np.float32),
    "head.0": np.array(0.75, dtype=np.float64),
    "head.1": ramp((3,), np.float64),
    "m": np.array([[6, 5, 4], [3, 2, 1]], dtype=np.float64),
    "unused": np.zeros((2, 2), dtype=np.float32),
}, sys.argv[1])
"#;

#[test]
fn python_safetensors_reads_what_grad_writes() {
    let Some(py) = python() else { return };
    let path = temp("to-python.safetensors");
    save_safetensors(&model(), &path).unwrap();
    run_python(&py, PY_READ, &path);
}

#[test]
fn grad_reads_what_python_safetensors_writes() {
    let Some(py) = python() else { return };
    let path = temp("from-python.safetensors");
    run_python(&py, PY_WRITE, &path);
    let mut m = zeros();
    load_safetensors(&mut m, &path).unwrap();
    let ramp = |n: usize| (0..n).map(|k| -(k as f64) / 8.0).collect::<Vec<_>>();
    let ramp32 = |n: usize| ramp(n).into_iter().map(|v| v as f32).collect::<Vec<_>>();
    assert_eq!(m.layers[0].w.to_vec(), ramp32(6));
    assert_eq!(m.layers[0].w.shape(), [2, 3]);
    assert_eq!(m.layers[0].b.to_vec(), ramp32(2));
    assert_eq!(m.layers[1].w.to_vec(), ramp32(2));
    assert_eq!(m.layers[1].b.to_vec(), ramp32(1));
    assert_eq!(m.head.0, 0.75);
    assert_eq!(m.head.1.to_vec(), ramp(3));
    assert_eq!(m.m, Matrix2x3::new(6.0, 5.0, 4.0, 3.0, 2.0, 1.0));
}
