//! The embedded Inspector Classic service model (botocore `inspector/2016-02-16`).
//!
//! Why it exists: request validation, the conformance tests and the list of
//! operations all read one machine-readable model instead of hand-copied
//! rules, so a constraint is never forgotten. The JSON is compiled into the
//! binary (`model/README.md` says where it comes from) and parsed once into
//! the compact form below.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value, json};

/// The model file, byte for byte as botocore ships it (Apache-2.0).
pub const MODEL_JSON: &str = include_str!("../model/inspector-2016-02-16.service-2.json");

/// `X-Amz-Target` prefix of every operation.
pub const TARGET_PREFIX: &str = "InspectorService";

/// Index of a shape in [`ServiceModel::shapes`].
pub type ShapeId = usize;

/// The parsed model.
#[derive(Debug)]
pub struct ServiceModel {
    /// Every shape, in file order.
    pub shapes: Vec<Shape>,
    /// Every operation, in file order.
    pub operations: Vec<Operation>,
    by_name: HashMap<String, ShapeId>,
}

/// One operation.
#[derive(Debug)]
pub struct Operation {
    /// Wire name, e.g. `ListFindings`.
    pub name: String,
    /// Input structure (`None` for `DescribeCrossAccountAccessRole`).
    pub input: Option<ShapeId>,
    /// Output structure (`None`: HTTP 200, empty body).
    pub output: Option<ShapeId>,
}

/// One shape with its constraints.
#[derive(Debug)]
pub struct Shape {
    /// Shape name, e.g. `Arn`.
    pub name: String,
    /// Type and its parts.
    pub kind: ShapeKind,
    /// `min`: length, item count or value, by type.
    pub min: Option<f64>,
    /// `max`: length, item count or value, by type.
    pub max: Option<f64>,
}

/// A structure member.
#[derive(Debug)]
pub struct Member {
    /// Wire name (lowerCamelCase).
    pub name: String,
    /// Its shape.
    pub shape: ShapeId,
    /// Whether the structure lists it as required.
    pub required: bool,
}

/// Shape types of the JSON protocol.
#[allow(missing_docs)] // variant fields: see the variant
#[derive(Debug)]
pub enum ShapeKind {
    /// A JSON object; `exception` marks error shapes.
    Structure { members: Vec<Member>, exception: bool },
    /// A JSON array.
    List { member: ShapeId },
    /// A JSON object with free keys.
    Map { key: ShapeId, value: ShapeId },
    /// A JSON string, maybe from a closed set or matching a pattern.
    String { enum_values: Option<Vec<String>>, pattern: Option<Regex> },
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    Long,
    /// Double.
    Double,
    /// `true`/`false`.
    Boolean,
    /// Epoch seconds (a JSON number).
    Timestamp,
}

/// The model, parsed on first use.
pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        // The file is compiled in and checked by this module's tests, so a
        // failure here is a build defect, not bad input.
        ServiceModel::parse(MODEL_JSON).expect("embedded Inspector model is valid")
    })
}

impl ServiceModel {
    /// Parses a botocore `service-2.json`.
    pub fn parse(text: &str) -> Result<ServiceModel, String> {
        let root: Value = serde_json::from_str(text).map_err(|e| format!("model: {e}"))?;
        let shapes_json = root["shapes"].as_object().ok_or("model: no shapes")?;
        let by_name: HashMap<String, ShapeId> = shapes_json.keys().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        let id = |v: &Value, ctx: &str| -> Result<ShapeId, String> {
            let name = v["shape"].as_str().ok_or_else(|| format!("model: {ctx}: no shape"))?;
            by_name.get(name).copied().ok_or_else(|| format!("model: {ctx}: unknown shape {name}"))
        };
        let mut shapes = Vec::with_capacity(shapes_json.len());
        for (name, s) in shapes_json {
            let kind = match s["type"].as_str().unwrap_or_default() {
                "structure" => {
                    let required: Vec<&str> = s["required"]
                        .as_array()
                        .map(|r| r.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let mut members = Vec::new();
                    for (m, mv) in s["members"].as_object().into_iter().flatten() {
                        members.push(Member {
                            name: m.clone(),
                            shape: id(mv, &format!("{name}.{m}"))?,
                            required: required.contains(&m.as_str()),
                        });
                    }
                    ShapeKind::Structure { members, exception: s["exception"].as_bool().unwrap_or(false) }
                }
                "list" => ShapeKind::List { member: id(&s["member"], name)? },
                "map" => ShapeKind::Map { key: id(&s["key"], name)?, value: id(&s["value"], name)? },
                "string" => ShapeKind::String {
                    enum_values: s["enum"]
                        .as_array()
                        .map(|e| e.iter().filter_map(Value::as_str).map(String::from).collect()),
                    pattern: match s["pattern"].as_str() {
                        Some(p) => Some(Regex::new(p).map_err(|e| format!("model: {name}: pattern: {e}"))?),
                        None => None,
                    },
                },
                "integer" => ShapeKind::Integer,
                "long" => ShapeKind::Long,
                "double" => ShapeKind::Double,
                "boolean" => ShapeKind::Boolean,
                "timestamp" => ShapeKind::Timestamp,
                other => return Err(format!("model: {name}: unknown type {other:?}")),
            };
            shapes.push(Shape { name: name.clone(), kind, min: s["min"].as_f64(), max: s["max"].as_f64() });
        }
        let mut operations = Vec::new();
        for (name, op) in root["operations"].as_object().ok_or("model: no operations")? {
            let opt = |key: &str| -> Result<Option<ShapeId>, String> {
                if op[key].is_null() { Ok(None) } else { id(&op[key], &format!("{name}.{key}")).map(Some) }
            };
            operations.push(Operation { name: name.clone(), input: opt("input")?, output: opt("output")? });
        }
        Ok(ServiceModel { shapes, operations, by_name })
    }

    /// A shape by name.
    pub fn shape_id(&self, name: &str) -> Option<ShapeId> {
        self.by_name.get(name).copied()
    }

    /// An operation by wire name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.name == name)
    }

    /// A valid value of a shape with every optional member present: used by
    /// the conformance tests and benchmarks to build requests and responses
    /// straight from the model.
    pub fn sample(&self, id: ShapeId) -> Value {
        let shape = &self.shapes[id];
        let count = || shape.min.unwrap_or(0.0).max(1.0).min(shape.max.unwrap_or(f64::MAX)) as usize;
        match &shape.kind {
            ShapeKind::Structure { members, .. } => {
                Value::Object(members.iter().map(|m| (m.name.clone(), self.sample(m.shape))).collect::<Map<_, _>>())
            }
            ShapeKind::List { member } => Value::Array((0..count()).map(|_| self.sample(*member)).collect()),
            ShapeKind::Map { key, value } => {
                let k = self.sample(*key).as_str().unwrap_or("key").to_string();
                Value::Object(Map::from_iter([(k, self.sample(*value))]))
            }
            ShapeKind::String { enum_values: Some(values), .. } => json!(values[0]),
            ShapeKind::String { pattern: Some(_), .. } => json!("0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"),
            ShapeKind::String { .. } => {
                let len = shape.min.unwrap_or(1.0).max(1.0).min(shape.max.unwrap_or(f64::MAX)) as usize;
                json!("x".repeat(len))
            }
            ShapeKind::Integer | ShapeKind::Long => {
                let (lo, hi) = crate::validate::integer_range(self, id);
                json!(10_i64.clamp(lo, hi))
            }
            ShapeKind::Double => json!(shape.min.unwrap_or(0.0).max(1.5).min(shape.max.unwrap_or(f64::MAX))),
            ShapeKind::Boolean => json!(true),
            ShapeKind::Timestamp => json!(1_458_680_170.035),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_model_has_every_operation_and_shape() {
        let m = model();
        assert_eq!(m.operations.len(), 37);
        assert_eq!(m.shapes.len(), 217);
        let op = m.operation("ListFindings").unwrap();
        assert_eq!(m.shapes[op.input.unwrap()].name, "ListFindingsRequest");
        assert!(m.operation("DeleteAssessmentRun").unwrap().output.is_none());
        assert!(m.operation("DescribeCrossAccountAccessRole").unwrap().input.is_none());
    }

    #[test]
    fn constraints_are_read() {
        let m = model();
        let arn = &m.shapes[m.shape_id("Arn").unwrap()];
        assert_eq!((arn.min, arn.max), (Some(1.0), Some(300.0)));
        let uuid = &m.shapes[m.shape_id("UUID").unwrap()];
        assert!(matches!(&uuid.kind, ShapeKind::String { pattern: Some(_), .. }));
    }
}
