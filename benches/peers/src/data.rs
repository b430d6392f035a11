//! The data directory shared with the Python side: one raw little-endian f64 file per input
//! array, and `manifest.json` with each case's inputs, `wrt` and grad's own results.

use std::fs;
use std::path::Path;

use grad::Tensor;
use serde_json::{Value, json};

use crate::Result;
use crate::cases::{scalar as s, tensor::cases as t};
use crate::check::{Computed, Summary};

/// One input array of a case, in C order; a scalar has the empty shape.
pub struct Array {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

impl Array {
    fn new(name: &str, shape: &[usize], values: Vec<f64>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}");
        Self {
            name: name.to_string(),
            shape: shape.to_vec(),
            values,
        }
    }

    fn scalar(name: &str, value: f64) -> Self {
        Self::new(name, &[], vec![value])
    }

    fn tensor(name: &str, t: &Tensor<f64>) -> Self {
        Self::new(name, t.shape(), t.to_vec())
    }

    /// The value of a scalar input.
    pub fn item(&self) -> f64 {
        assert!(self.shape.is_empty(), "{} is not a scalar", self.name);
        self.values[0]
    }

    /// The input as a grad tensor.
    pub fn to_tensor(&self) -> Tensor<f64> {
        Tensor::from_slice(&self.values, &self.shape).expect("shape and length agree")
    }

    /// The input as integer labels (T3's, stored as f64).
    pub fn labels(&self) -> Vec<usize> {
        self.values.iter().map(|&v| v as usize).collect()
    }
}

/// One case: its inputs in argument order, which are differentiated, and grad's results.
pub struct Case {
    pub name: String,
    pub inputs: Vec<Array>,
    pub wrt: Vec<String>,
    /// grad's value and gradient, as the manifest holds them.
    pub expected: Summary,
}

impl Case {
    /// The input called `name`.
    pub fn input(&self, name: &str) -> &Array {
        self.inputs
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{} has no input {name}", self.name))
    }
}

fn case(name: &str, inputs: Vec<Array>, wrt: &[&str], expected: Computed) -> Case {
    assert_eq!(wrt.len(), expected.grads.len(), "{name}");
    Case {
        name: name.to_string(),
        inputs,
        wrt: wrt.iter().map(|w| w.to_string()).collect(),
        expected: expected.summary(),
    }
}

/// Every case with its inputs from the shared case files and grad's value and gradient.
pub fn build() -> Vec<Case> {
    let a = s::s1_input();
    let (x, y) = s::s2_input();
    let x3 = s::s3_input();
    let (s4s, k, r, sigma, t4) = s::s4_input();
    let theta = s::s5_input();
    let a1 = t::t1_input();
    let (w, b, x2, y2) = t::t2_input();
    let ((w1, b1, w2, b2), x3t, labels) = t::t3_input();
    let xt4 = t::t4_input();
    let flat = |t: &Tensor<f64>| t.to_vec();

    let s1 = s::s1_scale_grad(a);
    let s2 = s::s2_rosenbrock_grad(x, y);
    let s3 = s::s3_rosenbrock_grad(&x3);
    let s4 = s::s4_black_scholes_grad(s4s, k, r, sigma, t4);
    let s5 = s::s5_arm_grad(&theta);
    let g1 = t::t1_quickstart_grad(&a1);
    let g2 = t::t2_logistic_grad(&w, b, &x2, &y2);
    let g3 = t::t3_mlp_grad(&w1, &b1, &w2, &b2, &x3t, &labels);
    let g4 = t::t4_elementwise_grad(&xt4);
    let (d1, d2, d3, d4, d5) = s4.1;
    let (gw1, gb1, gw2, gb2) = &g3.1;

    vec![
        case(
            "S1",
            vec![Array::scalar("a", a)],
            &["a"],
            Computed::new(s1.0, vec![vec![s1.1]]),
        ),
        case(
            "S2",
            vec![Array::scalar("x", x), Array::scalar("y", y)],
            &["x", "y"],
            Computed::new(s2.0, vec![vec![s2.1.0], vec![s2.1.1]]),
        ),
        case(
            "S3",
            vec![Array::new("x", &[x3.len()], x3.clone())],
            &["x"],
            Computed::new(s3.0, vec![s3.1.clone()]),
        ),
        case(
            "S4",
            vec![
                Array::scalar("s", s4s),
                Array::scalar("k", k),
                Array::scalar("r", r),
                Array::scalar("sigma", sigma),
                Array::scalar("t", t4),
            ],
            &["s", "k", "r", "sigma", "t"],
            Computed::new(s4.0, vec![vec![d1], vec![d2], vec![d3], vec![d4], vec![d5]]),
        ),
        case(
            "S5",
            vec![Array::new("theta", &[6], theta.to_vec())],
            &["theta"],
            Computed::new(s5.0, vec![s5.1.to_vec()]),
        ),
        case(
            "T1",
            vec![Array::tensor("a", &a1)],
            &["a"],
            Computed::new(g1.0, vec![flat(&g1.1)]),
        ),
        case(
            "T2",
            vec![
                Array::tensor("w", &w),
                Array::scalar("b", b),
                Array::tensor("x", &x2),
                Array::tensor("y", &y2),
            ],
            &["w", "b"],
            Computed::new(g2.0, vec![flat(&g2.1.0), vec![g2.1.1]]),
        ),
        case(
            "T3",
            vec![
                Array::tensor("w1", &w1),
                Array::tensor("b1", &b1),
                Array::tensor("w2", &w2),
                Array::tensor("b2", &b2),
                Array::tensor("x", &x3t),
                Array::new(
                    "labels",
                    &[labels.len()],
                    labels.iter().map(|&l| l as f64).collect(),
                ),
            ],
            &["w1", "b1", "w2", "b2"],
            Computed::new(g3.0, vec![flat(gw1), flat(gb1), flat(gw2), flat(gb2)]),
        ),
        case(
            "T4",
            vec![Array::tensor("x", &xt4)],
            &["x"],
            Computed::new(g4.0, vec![flat(&g4.1)]),
        ),
    ]
}

/// `grad-peers export DIR`: writes every input file and the manifest.
pub fn export(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)?;
    let mut cases = serde_json::Map::new();
    for c in build() {
        let mut inputs = Vec::new();
        for a in &c.inputs {
            let file = format!("{}_{}.f64", c.name, a.name);
            let bytes: Vec<u8> = a.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            fs::write(dir.join(&file), bytes)?;
            inputs.push(json!({"name": a.name, "shape": a.shape, "file": file}));
        }
        let e = &c.expected;
        let grad: Vec<Value> = (c.wrt.iter().zip(&e.firsts).zip(&e.sums))
            .map(|((name, first), sum)| json!({"name": name, "first": first, "sum": sum}))
            .collect();
        cases.insert(
            c.name.clone(),
            json!({"inputs": inputs, "wrt": c.wrt, "value": c.expected.value, "grad": grad}),
        );
    }
    let manifest = json!({ "cases": cases });
    fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    Ok(())
}

/// The cases of an exported directory, inputs read from their files.
pub fn load(dir: &Path) -> Result<Vec<Case>> {
    let text = fs::read_to_string(dir.join("manifest.json"))
        .map_err(|e| format!("{}: {e}", dir.join("manifest.json").display()))?;
    let manifest: Value = serde_json::from_str(&text)?;
    let cases = manifest["cases"]
        .as_object()
        .ok_or("manifest has no cases")?;
    let mut out = Vec::new();
    for (name, c) in cases {
        let mut inputs = Vec::new();
        for i in c["inputs"].as_array().ok_or("inputs")? {
            let shape: Vec<usize> = serde_json::from_value(i["shape"].clone())?;
            let file = i["file"].as_str().ok_or("file")?;
            let bytes = fs::read(dir.join(file))?;
            let values = bytes
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect();
            inputs.push(Array::new(
                i["name"].as_str().ok_or("name")?,
                &shape,
                values,
            ));
        }
        let wrt: Vec<String> = serde_json::from_value(c["wrt"].clone())?;
        let mut expected = Summary {
            value: c["value"].as_f64().ok_or("value")?,
            firsts: Vec::new(),
            sums: Vec::new(),
        };
        for g in c["grad"].as_array().ok_or("grad")? {
            expected
                .firsts
                .push(serde_json::from_value(g["first"].clone())?);
            expected.sums.push(g["sum"].as_f64().ok_or("sum")?);
        }
        out.push(Case {
            name: name.clone(),
            inputs,
            wrt,
            expected,
        });
    }
    Ok(out)
}
