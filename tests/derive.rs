//! `#[derive(Differentiable)]`: tangent structs with the same field names, `#[no_grad]`
//! fields, nesting, and methods differentiated with respect to `self`.

mod common;

use common::{close, close_all, fd};
use grad::{Differentiable, Tangent, differentiable};

#[derive(Differentiable, Clone, Debug)]
struct Joint {
    angle: f64,
    length: f64,
}

#[derive(Differentiable, Clone, Debug)]
struct Arm {
    joints: Vec<Joint>,
    base: [f64; 2],
    #[no_grad]
    name: String,
    steps: usize,
}

#[derive(Differentiable, Clone, Debug)]
struct Pair(f64, #[no_grad] u8, f64);

impl Arm {
    /// Squared distance of the arm's tip to a target.
    #[differentiable(wrt(self))]
    fn reach(&self, target: [f64; 2]) -> f64 {
        let mut phi = 0.0;
        let mut x = self.base[0];
        let mut y = self.base[1];
        for k in 0..self.joints.len() {
            phi += self.joints[k].angle;
            x += self.joints[k].length * phi.cos();
            y += self.joints[k].length * phi.sin();
        }
        let dx = x - target[0];
        let dy = y - target[1];
        (dx * dx + dy * dy) * (self.steps as f64)
    }
}

#[differentiable]
fn pair_loss(p: &Pair) -> f64 {
    p.0 * p.2 + p.0.sin()
}

fn arm(a: [f64; 3]) -> Arm {
    Arm {
        joints: vec![
            Joint {
                angle: a[0],
                length: 1.0,
            },
            Joint {
                angle: a[1],
                length: 0.5,
            },
            Joint {
                angle: a[2],
                length: 0.25,
            },
        ],
        base: [0.1, -0.2],
        name: "three links".into(),
        steps: 2,
    }
}

#[test]
fn tangent_struct_has_the_same_fields() {
    let a = arm([0.3, -0.4, 0.5]);
    let z: ArmTangent = a.zero_tangent();
    assert_eq!(z.joints.len(), 3);
    assert_eq!(z.joints[1].length, 0.0);
    assert_eq!(z.base, [0.0, 0.0]);
    let ((), ()) = (z.name, z.steps);
    assert_eq!(a.name, "three links");
    let mut t = a.zero_tangent();
    t.joints[0].angle = 1.0;
    t.base[1] = 2.0;
    let mut u = t.clone();
    u.add_assign(t.clone());
    u.scale(0.5);
    assert_eq!(u.joints[0].angle, 1.0);
    assert_eq!(u.dot(&t), 1.0 + 4.0);
    let mut b = a.clone();
    b.move_along(&t);
    assert_eq!(b.joints[0].angle, 1.3);
    assert_eq!(b.base[1], 1.8);
    assert!(format!("{t:?}").starts_with("ArmTangent"));
}

#[test]
fn method_gradient_is_a_tangent_struct() {
    let angles = [0.3, -0.4, 0.5];
    let target = [1.0, 0.5];
    let a = arm(angles);
    let (v, g) = a.reach_grad(target);
    close(v, a.reach(target), 1e-15);
    for k in 0..3 {
        let f = |t: f64| {
            let mut b = angles;
            b[k] = t;
            arm(b).reach(target)
        };
        close(g.joints[k].angle, fd(f, angles[k]), 1e-6);
    }
    // ∂/∂base = 2 · steps · (tip - target)
    let eps = 1e-6;
    let mut b = a.clone();
    b.base[0] += eps;
    let mut c = a.clone();
    c.base[0] -= eps;
    close(
        g.base[0],
        (b.reach(target) - c.reach(target)) / (2.0 * eps),
        1e-6,
    );
    // Forward mode along the gradient gives |g|².
    let (_, t) = a.reach_jvp(target, &g, grad::NoTangent);
    close(t, g.dot(&g), 1e-12);

    let p = Pair(0.5, 7, 2.0);
    let (_, d) = pair_loss_grad(&p);
    // ∂p.0 = p.2 + cos p.0, ∂p.2 = p.0
    close_all(&[d.0, d.2], &[2.0 + 0.5f64.cos(), 0.5], 1e-15);
    let () = d.1;
    assert_eq!(p.1, 7);
}

/// A tangent struct is differentiable itself, its own tangent: zero of the same shape,
/// `move_along` adding, parameters named by field with flat shapes (a field's runs joined).
#[test]
fn tangent_struct_is_its_own_tangent_space() {
    let t = ArmTangent {
        joints: vec![
            JointTangent {
                angle: 1.0,
                length: -2.0,
            },
            JointTangent {
                angle: 0.5,
                length: 3.0,
            },
        ],
        base: [4.0, -1.0],
        name: (),
        steps: (),
    };
    let zero = Differentiable::zero_tangent(&t);
    assert_eq!(zero.joints.len(), 2);
    assert_eq!(
        (zero.joints[1].angle, zero.joints[1].length, zero.base),
        (0.0, 0.0, [0.0, 0.0])
    );
    let mut moved = t.clone();
    moved.move_along(&t);
    assert_eq!(
        (moved.joints[0].length, moved.joints[1].angle, moved.base),
        (-4.0, 1.0, [8.0, -2.0])
    );
    let mut seen = Vec::new();
    t.visit_named(&mut String::new(), &mut |name, shape, values| {
        let values = match values {
            grad::Flat::F64(s) => s.to_vec(),
            grad::Flat::F32(s) => s.iter().map(|&x| f64::from(x)).collect(),
        };
        seen.push((name.to_string(), shape.to_vec(), values));
    });
    assert_eq!(
        seen,
        [
            ("joints".to_string(), vec![4], vec![1.0, -2.0, 0.5, 3.0]),
            ("base".to_string(), vec![2], vec![4.0, -1.0]),
        ]
    );
}
