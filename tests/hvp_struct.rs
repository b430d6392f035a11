//! `#[differentiable(order = 2)]` on struct and tuple parameters: `f_hvp` against central
//! differences of `f_grad` along the direction, the Hessian's symmetry, its value and gradient
//! against `f_grad`'s. Structs by reference and by value, with `Vec`, tensor, nalgebra and
//! nested-struct fields, `#[no_grad]` fields read beside the differentiated ones, a struct
//! built inside the function, tuples, slices, `Vec`s and arrays of structs, and `f_grad` of a
//! struct function inside another loss.

mod common;

use common::{assert_close, assert_symmetric, floats as flat};
use grad::{Differentiable, Tangent, Tensor, differentiable};
use nalgebra::Vector2;

/// Finite differences of the gradient with h = 1e-5 agree with the exact Hessian-vector
/// product to about h² |f'''| + ε |∇f| / h, well inside 1e-6 of its size here.
const H: f64 = 1e-5;
const FD_TOL: f64 = 1e-6;

/// `x + s v`.
fn along<X: Differentiable + Clone>(x: &X, v: &X::Tangent, s: f64) -> X {
    let mut step = v.clone();
    step.scale(s);
    let mut y = x.clone();
    y.move_along(&step);
    y
}

/// `(g(x + h v) - g(x - h v)) / 2h`, flat.
fn difference<X: Differentiable + Clone, G: Tangent>(
    grad: impl Fn(&X) -> G,
    x: &X,
    v: &X::Tangent,
) -> Vec<f64> {
    let (p, m) = (flat(&grad(&along(x, v, H))), flat(&grad(&along(x, v, -H))));
    p.iter().zip(&m).map(|(p, m)| (p - m) / (2.0 * H)).collect()
}

// ---------------------------------------------------------------------------------------
// A chain of springs: scalar, `Vec` and `#[no_grad]` fields, the struct by reference.

#[derive(Differentiable, Clone, Debug)]
struct Chain {
    k: f64,
    rest: Vec<f64>,
    #[no_grad]
    damping: f64,
    #[no_grad]
    links: usize,
}

#[differentiable(order = 2)]
fn chain_energy(c: &Chain, x: &[f64]) -> f64 {
    let mut e = 0.0;
    for i in 0..c.links {
        let d = x[i + 1] - x[i] - c.rest[i];
        e += 0.5 * c.k * d * d + c.damping * (c.k * x[i]).sin();
    }
    e
}

fn chain() -> (Chain, Vec<f64>, ChainTangent, Vec<f64>) {
    let c = Chain {
        k: 2.5,
        rest: vec![1.0, 0.8, 1.2],
        damping: 0.3,
        links: 3,
    };
    let x = vec![0.1, 1.3, 2.0, 3.4];
    let vc = ChainTangent {
        k: 0.4,
        rest: vec![0.5, -0.25, 1.0],
        damping: (),
        links: (),
    };
    (c, x, vc, vec![1.0, -0.5, 0.25, 0.75])
}

#[test]
fn struct_by_reference_matches_differences_of_the_gradient() {
    let (c, x, vc, vx) = chain();
    let (y, (gc, gx), (hc, hx)) = chain_energy_hvp(&c, &x, &vc, &vx);
    let (y0, (gc0, gx0)) = chain_energy_grad(&c, &x);
    assert_close("chain value", &[y], &[y0], 1e-14);
    assert_close("chain gradient c", &flat(&gc), &flat(&gc0), 1e-14);
    assert_close("chain gradient x", &gx, &gx0, 1e-14);

    // Both parameters move together: differences along (vc, vx) of the whole gradient.
    let pair = (c.clone(), x.clone());
    let v = (vc.clone(), vx.clone());
    let want = difference(
        |(c, x): &(Chain, Vec<f64>)| chain_energy_grad(c, x).1,
        &pair,
        &v,
    );
    let got = [flat(&hc), hx.clone()].concat();
    assert_close("chain H v", &got, &want, FD_TOL);

    let (uc, ux) = (
        ChainTangent {
            k: -0.7,
            rest: vec![0.2, 0.9, -0.4],
            damping: (),
            links: (),
        },
        vec![-0.3, 0.6, 0.1, -0.9],
    );
    let (_, _, (huc, hux)) = chain_energy_hvp(&c, &x, &uc, &ux);
    assert_symmetric(
        "chain",
        &[flat(&uc), ux].concat(),
        &got,
        &[flat(&vc), vx].concat(),
        &[flat(&huc), hux].concat(),
    );
}

#[test]
#[should_panic(expected = "the direction for `c.rest` has length 2 where `c.rest` has length 3")]
fn a_direction_of_the_wrong_length_names_the_field() {
    let (c, x, mut vc, vx) = chain();
    vc.rest.pop();
    let _ = chain_energy_hvp(&c, &x, &vc, &vx);
}

// ---------------------------------------------------------------------------------------
// A model of nested structs: a tensor layer, a nalgebra offset, the model by value.

#[derive(Differentiable, Clone, Debug)]
struct Layer {
    w: Tensor<f64>,
    b: f64,
}

#[derive(Differentiable, Clone, Debug)]
struct Model {
    layer: Layer,
    offset: Vector2<f64>,
    scales: [f64; 2],
}

#[differentiable(order = 2)]
fn model_loss(m: Model, x: &Tensor<f64>) -> f64 {
    let h = (x.matmul(&m.layer.w) + m.layer.b).tanh();
    let s = h.sum();
    let o = m.offset[0] * m.scales[0] + m.offset.norm() * m.offset[1] * m.scales[1];
    (s - 1.0) * (s - 1.0) + o * o + (m.scales[0] * m.scales[1]).exp()
}

fn model() -> (Model, Tensor<f64>, ModelTangent) {
    let m = Model {
        layer: Layer {
            w: Tensor::from_vec(vec![0.3, -0.2, 0.5, 0.1, -0.4, 0.25], &[3, 2]).unwrap(),
            b: 0.05,
        },
        offset: Vector2::new(0.4, -0.7),
        scales: [0.6, -0.3],
    };
    let x = Tensor::from_vec(vec![1.0, -0.5, 0.25, 0.5, 0.75, -1.0], &[2, 3]).unwrap();
    let v = ModelTangent {
        layer: LayerTangent {
            w: Tensor::from_vec(vec![1.0, 0.5, -0.5, 0.25, -1.0, 0.75], &[3, 2]).unwrap(),
            b: -0.4,
        },
        offset: Vector2::new(0.3, 0.9),
        scales: [-0.2, 0.6],
    };
    (m, x, v)
}

#[test]
fn nested_struct_by_value_matches_differences_of_the_gradient() {
    let (m, x, v) = model();
    let (y, (gm, gx), (hm, hx)) = model_loss_hvp(m.clone(), &x, v.clone(), &Tensor::zeros(&[2, 3]));
    let (y0, (gm0, gx0)) = model_loss_grad(m.clone(), &x);
    assert_close("model value", &[y], &[y0], 1e-14);
    assert_close("model gradient m", &flat(&gm), &flat(&gm0), 1e-14);
    assert_close("model gradient x", gx.as_slice(), gx0.as_slice(), 1e-14);

    let want = difference(|m: &Model| model_loss_grad(m.clone(), &x).1, &m, &v);
    let got = [flat(&hm), hx.as_slice().to_vec()].concat();
    assert_close("model H v", &got, &want, FD_TOL);

    let mut u = v.clone();
    u.scale(-0.5);
    u.layer.b = 0.8;
    u.offset[1] = -0.1;
    let (_, _, (hu, _)) = model_loss_hvp(m.clone(), &x, u.clone(), &Tensor::zeros(&[2, 3]));
    assert_symmetric("model", &flat(&u), &flat(&hm), &flat(&v), &flat(&hu));
}

// ---------------------------------------------------------------------------------------
// A struct built inside the function from differentiated values, and a tuple parameter.

#[derive(Differentiable, Clone, Debug)]
struct Pt {
    x: f64,
    y: f64,
}

#[differentiable(order = 2)]
fn built(a: f64, pair: (f64, f64)) -> f64 {
    let p = Pt {
        x: a * pair.0,
        y: a.sin() + pair.1,
    };
    let q: Pt = Pt {
        x: p.y * p.y,
        y: p.x,
    };
    q.x * q.y + p.x * p.y * pair.1
}

#[test]
fn struct_literals_and_tuples_match_differences_of_the_gradient() {
    let (a, pair) = (0.7, (1.3, -0.4));
    let (va, vp) = (0.5, (-1.0, 0.75));
    let (y, (ga, gp), (ha, hp)) = built_hvp(a, pair, va, vp);
    let (y0, (ga0, gp0)) = built_grad(a, pair);
    assert_close("built value", &[y], &[y0], 1e-14);
    assert_close(
        "built gradient",
        &[ga, gp.0, gp.1],
        &[ga0, gp0.0, gp0.1],
        1e-14,
    );

    let x = (a, pair);
    let want = difference(
        |(a, p): &(f64, (f64, f64))| built_grad(*a, *p).1,
        &x,
        &(va, vp),
    );
    assert_close("built H v", &[ha, hp.0, hp.1], &want, FD_TOL);

    let (ua, up) = (-0.3, (0.2, 0.9));
    let (_, _, (hua, hup)) = built_hvp(a, pair, ua, up);
    assert_symmetric(
        "built",
        &[ua, up.0, up.1],
        &[ha, hp.0, hp.1],
        &[va, vp.0, vp.1],
        &[hua, hup.0, hup.1],
    );
}

// ---------------------------------------------------------------------------------------
// A struct function's gradient inside another loss: a spring energy's force on `x` fitted
// to a target, differentiated with respect to the spring's parameters.

#[derive(Differentiable, Clone, Debug)]
struct Spring {
    k: f64,
    rest: f64,
}

#[differentiable(order = 2)]
fn spring_energy(s: &Spring, x: f64) -> f64 {
    let d = x - s.rest;
    0.5 * s.k * d * d + 0.1 * s.k * d * d * d
}

#[differentiable]
fn force_misfit(s: &Spring, x: f64, target: f64) -> f64 {
    let (_, (_, de_dx)) = spring_energy_grad(s, x);
    let miss = -de_dx - target;
    miss * miss
}

#[test]
fn struct_gradient_inside_a_loss_matches_differences() {
    let (s, x, target) = (Spring { k: 3.0, rest: 0.8 }, 1.4, -1.1);
    let (_, (gs, gx, _)) = force_misfit_grad(&s, x, target);
    let fd = |s: &Spring, x: f64| force_misfit(s, x, target);
    let dk = (fd(
        &Spring {
            k: s.k + H,
            ..s.clone()
        },
        x,
    ) - fd(
        &Spring {
            k: s.k - H,
            ..s.clone()
        },
        x,
    )) / (2.0 * H);
    let dr = (fd(
        &Spring {
            rest: s.rest + H,
            ..s.clone()
        },
        x,
    ) - fd(
        &Spring {
            rest: s.rest - H,
            ..s.clone()
        },
        x,
    )) / (2.0 * H);
    let dx = (fd(&s, x + H) - fd(&s, x - H)) / (2.0 * H);
    assert_close(
        "misfit gradient",
        &[gs.k, gs.rest, gx],
        &[dk, dr, dx],
        FD_TOL,
    );
}

// ---------------------------------------------------------------------------------------
// Slices, `Vec`s and arrays of structs: a list of particles with charges and positions.

#[derive(Differentiable, Clone, Debug)]
struct Atom {
    q: f64,
    at: [f64; 2],
}

#[differentiable(order = 2)]
fn coulomb(atoms: &[Atom], screen: f64) -> f64 {
    let mut e = 0.0;
    for i in 0..atoms.len() {
        for j in (i + 1)..atoms.len() {
            let dx = atoms[i].at[0] - atoms[j].at[0];
            let dy = atoms[i].at[1] - atoms[j].at[1];
            let r = (dx * dx + dy * dy + screen * screen).sqrt();
            e += atoms[i].q * atoms[j].q / r;
        }
    }
    e
}

#[differentiable(order = 2)]
fn spread(pts: Vec<Pt>, pair: [Pt; 2]) -> f64 {
    let mut s = pair[0].x * pair[1].y;
    for p in &pts {
        s += (p.x - pair[0].y).powi(2) * p.y.exp();
    }
    s
}

fn atoms() -> Vec<Atom> {
    vec![
        Atom {
            q: 1.0,
            at: [0.0, 0.1],
        },
        Atom {
            q: -0.8,
            at: [1.1, -0.3],
        },
        Atom {
            q: 0.6,
            at: [0.4, 0.9],
        },
    ]
}

fn atom_tangent(q: f64, at: [f64; 2]) -> AtomTangent {
    AtomTangent { q, at }
}

#[test]
fn slices_of_structs_match_differences_of_the_gradient() {
    let (atoms, screen) = (atoms(), 0.2);
    let v = vec![
        atom_tangent(0.5, [1.0, -0.5]),
        atom_tangent(-0.25, [0.3, 0.8]),
        atom_tangent(0.75, [-0.6, 0.2]),
    ];
    let (y, (ga, gs), (ha, hs)) = coulomb_hvp(&atoms, screen, &v, 0.4);
    let (y0, (ga0, gs0)) = coulomb_grad(&atoms, screen);
    assert_close("coulomb value", &[y], &[y0], 1e-14);
    assert_close(
        "coulomb gradient",
        &[flat(&ga), vec![gs]].concat(),
        &[flat(&ga0), vec![gs0]].concat(),
        1e-14,
    );

    let x = (atoms.clone(), screen);
    let want = difference(
        |(a, s): &(Vec<Atom>, f64)| coulomb_grad(a, *s).1,
        &x,
        &(v.clone(), 0.4),
    );
    let got = [flat(&ha), vec![hs]].concat();
    assert_close("coulomb H v", &got, &want, FD_TOL);

    let u = vec![
        atom_tangent(-0.3, [0.2, 0.9]),
        atom_tangent(0.6, [-1.0, 0.1]),
        atom_tangent(0.1, [0.5, -0.7]),
    ];
    let (_, _, (hu, hus)) = coulomb_hvp(&atoms, screen, &u, -0.2);
    assert_symmetric(
        "coulomb",
        &[flat(&u), vec![-0.2]].concat(),
        &got,
        &[flat(&v), vec![0.4]].concat(),
        &[flat(&hu), vec![hus]].concat(),
    );

    // The screening length alone differentiated: the atoms are constants.
    let (_, _, (_, h_only)) =
        coulomb_hvp(&atoms, screen, &vec![atom_tangent(0.0, [0.0; 2]); 3], 1.0);
    let d =
        (coulomb_grad(&atoms, screen + H).1.1 - coulomb_grad(&atoms, screen - H).1.1) / (2.0 * H);
    assert_close("coulomb d2/ds2", &[h_only], &[d], FD_TOL);
}

#[test]
fn vecs_and_arrays_of_structs_match_differences_of_the_gradient() {
    let pts = vec![Pt { x: 0.3, y: -0.2 }, Pt { x: 1.2, y: 0.4 }];
    let pair = [Pt { x: 0.7, y: 0.1 }, Pt { x: -0.5, y: 0.9 }];
    let vp = vec![PtTangent { x: 1.0, y: 0.5 }, PtTangent { x: -0.5, y: 0.25 }];
    let vq = [PtTangent { x: 0.75, y: -1.0 }, PtTangent { x: 0.2, y: 0.6 }];
    let (y, g, (hp, hq)) = spread_hvp(pts.clone(), pair.clone(), vp.clone(), vq.clone());
    let (y0, g0) = spread_grad(pts.clone(), pair.clone());
    assert_close("spread value", &[y], &[y0], 1e-14);
    assert_close("spread gradient", &flat(&g), &flat(&g0), 1e-14);
    let x = (pts, pair);
    let want = difference(
        |(p, q): &(Vec<Pt>, [Pt; 2])| spread_grad(p.clone(), q.clone()).1,
        &x,
        &(vp, vq),
    );
    assert_close(
        "spread H v",
        &[flat(&hp), flat(&hq)].concat(),
        &want,
        FD_TOL,
    );
}
