//! Parameters saved to and loaded from safetensors files: one named tensor per parameter,
//! named by its field path, readable and writable by Python's `safetensors` package.
//!
//! ```
//! use grad::Tensor;
//! use grad::io::{load_safetensors, save_safetensors};
//!
//! // Tensors `0.0` (F32, [2, 3]), `0.1` (F32, [2]) and `1` (F64, []); a
//! // `#[derive(Differentiable)]` struct names them by its fields (`layers.0.w`).
//! let params = (
//!     vec![
//!         Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?,
//!         Tensor::from([0.5, -0.5]),
//!     ],
//!     2.0f64,
//! );
//! let path = std::env::temp_dir().join("grad_io_doc_example.safetensors");
//! save_safetensors(&params, &path)?;
//!
//! let mut other = (vec![Tensor::<f32>::zeros(&[2, 3]), Tensor::zeros(&[2])], 0.0f64);
//! load_safetensors(&mut other, &path)?;
//! assert_eq!(other.0[0].to_vec(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! assert_eq!(other.1, 2.0);
//!
//! // A parameter of another shape: an error naming it, and `wrong` is unchanged.
//! let mut wrong = (vec![Tensor::<f32>::zeros(&[3, 2]), Tensor::zeros(&[2])], 0.0f64);
//! let e = load_safetensors(&mut wrong, &path).unwrap_err();
//! assert!(e.to_string().starts_with("tensor `0.0`"));
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Names come from [`Differentiable::visit_named`]: struct fields by name, `Vec`, array and
//! tuple elements by index, joined with `.` (`layers.0.w`); `#[no_grad]` fields and integers
//! are not parameters and are not saved. A bare tensor or scalar, which has no field path,
//! is the tensor named `""`. `f32` parameters are stored as `F32`, `f64` ones as `F64`,
//! little-endian and row-major (nalgebra matrices are transposed into row-major with shape
//! `[rows, columns]`).

use crate::differentiable::{Differentiable, Flat, FlatMut};
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, View};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why saving or loading failed. Each message names the file and, where there is one, the
/// tensor.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not a complete safetensors file (truncated, or not one at all).
    Format {
        /// The file.
        path: PathBuf,
        /// What the safetensors reader said.
        message: String,
    },
    /// The file has no tensor for a parameter.
    Missing {
        /// The file.
        path: PathBuf,
        /// The parameter's name.
        name: String,
    },
    /// A tensor's shape differs from its parameter's.
    Shape {
        /// The file.
        path: PathBuf,
        /// The parameter's name.
        name: String,
        /// The parameter's shape.
        expected: Vec<usize>,
        /// The tensor's shape in the file.
        found: Vec<usize>,
    },
    /// A tensor's element type differs from its parameter's.
    Dtype {
        /// The file.
        path: PathBuf,
        /// The parameter's name.
        name: String,
        /// The parameter's type (`F32` or `F64`).
        expected: &'static str,
        /// The tensor's type in the file, as safetensors names it.
        found: String,
    },
    /// Two parameters of the value being saved have the same name (a hand-written
    /// [`Differentiable::visit_named`] that names two parts alike).
    Duplicate {
        /// The file.
        path: PathBuf,
        /// The name.
        name: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "`{}`: {source}", path.display()),
            Error::Format { path, message } => write!(
                f,
                "`{}` is not a complete safetensors file: {message}",
                path.display()
            ),
            Error::Missing { path, name } => {
                write!(f, "`{}` has no tensor named `{name}`", path.display())
            }
            Error::Shape {
                path,
                name,
                expected,
                found,
            } => write!(
                f,
                "tensor `{name}` in `{}` has shape {found:?}, but the parameter has shape {expected:?}",
                path.display()
            ),
            Error::Dtype {
                path,
                name,
                expected,
                found,
            } => write!(
                f,
                "tensor `{name}` in `{}` has dtype {found}, but the parameter is {expected}",
                path.display()
            ),
            Error::Duplicate { path, name } => write!(
                f,
                "cannot save `{}`: two parameters are named `{name}`",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// One parameter, encoded as safetensors stores it.
struct Encoded {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Encoded {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Writes every parameter of `params` to the safetensors file `path`, one tensor per
/// parameter named by its field path (see the [module](self) docs). The file is written to
/// a temporary sibling and renamed into place, so an existing file is replaced whole.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written, [`Error::Duplicate`] if two parameters
/// have the same name.
pub fn save_safetensors<P: Differentiable + ?Sized>(
    params: &P,
    path: impl AsRef<Path>,
) -> Result<(), Error> {
    let path = path.as_ref();
    let mut tensors: Vec<(String, Encoded)> = Vec::new();
    params.visit_named(&mut String::new(), &mut |name, shape, values| {
        let (dtype, bytes) = match values {
            Flat::F32(s) => (Dtype::F32, s.iter().flat_map(|v| v.to_le_bytes()).collect()),
            Flat::F64(s) => (Dtype::F64, s.iter().flat_map(|v| v.to_le_bytes()).collect()),
        };
        let shape = shape.to_vec();
        tensors.push((
            name.to_string(),
            Encoded {
                dtype,
                shape,
                bytes,
            },
        ));
    });
    let mut seen = HashSet::new();
    for (name, _) in &tensors {
        if !seen.insert(name.as_str()) {
            return Err(Error::Duplicate {
                path: path.to_path_buf(),
                name: name.clone(),
            });
        }
    }
    let views = tensors.iter().map(|(name, t)| (name.as_str(), t));
    safetensors::serialize_to_file(views, None, path).map_err(|e| match e {
        SafeTensorError::IoError(source) => Error::Io {
            path: path.to_path_buf(),
            source,
        },
        other => Error::Format {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    })
}

/// One parameter's new values, decoded from the file before anything is written.
enum Decoded {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// Reads every parameter of `params` from the safetensors file `path`, by the names
/// [`save_safetensors`] writes. Tensors in the file that `params` has no parameter for are
/// ignored.
///
/// Everything is read and checked before anything is written: on an error `params` is as
/// it was.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read, [`Error::Format`] if it is truncated or not a
/// safetensors file, [`Error::Missing`] if it lacks a parameter's name, [`Error::Shape`] or
/// [`Error::Dtype`] if a tensor's shape or element type differs from its parameter's.
pub fn load_safetensors<P: Differentiable + ?Sized>(
    params: &mut P,
    path: impl AsRef<Path>,
) -> Result<(), Error> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;

    let mut decoded: Vec<Decoded> = Vec::new();
    let mut failure: Option<Error> = None;
    params.visit_named(&mut String::new(), &mut |name, shape, values| {
        if failure.is_none() {
            match decode(&file, path, name, shape, &values) {
                Ok(d) => decoded.push(d),
                Err(e) => failure = Some(e),
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }

    let mut next = decoded.into_iter();
    params.visit_named_mut(&mut String::new(), &mut |name, _, values| {
        let written = match (values, next.next()) {
            (FlatMut::F32(dst), Some(Decoded::F32(src))) if dst.len() == src.len() => {
                dst.copy_from_slice(&src);
                true
            }
            (FlatMut::F64(dst), Some(Decoded::F64(src))) if dst.len() == src.len() => {
                dst.copy_from_slice(&src);
                true
            }
            _ => false,
        };
        assert!(
            written,
            "load_safetensors: the value's visit_named_mut disagrees with its visit_named at `{name}`"
        );
    });
    Ok(())
}

/// The file's tensor for the parameter `name`, checked against its shape and type.
fn decode(
    file: &SafeTensors<'_>,
    path: &Path,
    name: &str,
    shape: &[usize],
    values: &Flat<'_>,
) -> Result<Decoded, Error> {
    let tensor = file.tensor(name).map_err(|_| Error::Missing {
        path: path.to_path_buf(),
        name: name.to_string(),
    })?;
    let expected = match values {
        Flat::F32(_) => Dtype::F32,
        Flat::F64(_) => Dtype::F64,
    };
    if tensor.dtype() != expected {
        return Err(Error::Dtype {
            path: path.to_path_buf(),
            name: name.to_string(),
            expected: if expected == Dtype::F32 { "F32" } else { "F64" },
            found: format!("{:?}", tensor.dtype()),
        });
    }
    if tensor.shape() != shape {
        return Err(Error::Shape {
            path: path.to_path_buf(),
            name: name.to_string(),
            expected: shape.to_vec(),
            found: tensor.shape().to_vec(),
        });
    }
    // The reader has checked that the data holds exactly `shape`'s elements of `dtype`.
    let data = tensor.data();
    Ok(match values {
        Flat::F32(_) => Decoded::F32(
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        Flat::F64(_) => Decoded::F64(
            data.chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .collect(),
        ),
    })
}
