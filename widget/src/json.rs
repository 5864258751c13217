//! JSON through the browser: `JSON.parse` and `JSON.stringify` do the text,
//! and the widget reads and writes the fields it knows by name.
//!
//! serde_json and the deserializers derived for each of the widget's types
//! were about a fifth of its wasm, and every page view downloads that wasm,
//! while the browser already carries a JSON parser. So the widget's own
//! documents (the tenant's texts and configuration, the discovery document,
//! token responses, what it keeps in sessionStorage and sends between tabs)
//! go through [`Object`].
//!
//! What it is not: a validating reader. A field of the wrong type reads as
//! absent and each caller says what absence means. Tokens are not read
//! here: the ID token is checked by the second module, with the verifier's
//! strict parser.

use wasm_bindgen::{JsCast as _, JsValue};

/// A JSON object (never an array, never a primitive).
#[derive(Clone, Debug)]
pub struct Object(js_sys::Object);

impl Object {
    /// An empty object, to fill with [`Object::with`].
    pub fn new() -> Object {
        Object(js_sys::Object::new())
    }

    /// Parses `text`; `None` when it is not JSON or not an object.
    pub fn parse(text: &str) -> Option<Object> {
        Object::from_value(js_sys::JSON::parse(text).ok()?)
    }

    /// `value` when it is an object (and not an array).
    pub fn from_value(value: JsValue) -> Option<Object> {
        (value.is_object() && !js_sys::Array::is_array(&value))
            .then(|| Object(value.unchecked_into()))
    }

    fn field(&self, key: &str) -> JsValue {
        js_sys::Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    /// The string at `key`.
    pub fn string(&self, key: &str) -> Option<String> {
        self.field(key).as_string()
    }

    /// The number at `key`.
    pub fn number(&self, key: &str) -> Option<f64> {
        self.field(key).as_f64()
    }

    /// The boolean at `key`.
    pub fn boolean(&self, key: &str) -> Option<bool> {
        self.field(key).as_bool()
    }

    /// The object at `key`.
    pub fn object(&self, key: &str) -> Option<Object> {
        Object::from_value(self.field(key))
    }

    fn array(&self, key: &str) -> Vec<JsValue> {
        let value = self.field(key);
        if js_sys::Array::is_array(&value) {
            js_sys::Array::from(&value).iter().collect()
        } else {
            Vec::new()
        }
    }

    /// The strings in the array at `key` (other items skipped; no array is
    /// an empty list).
    pub fn strings(&self, key: &str) -> Vec<String> {
        self.array(key)
            .into_iter()
            .filter_map(|item| item.as_string())
            .collect()
    }

    /// The objects in the array at `key` (other items skipped).
    pub fn objects(&self, key: &str) -> Vec<Object> {
        self.array(key)
            .into_iter()
            .filter_map(Object::from_value)
            .collect()
    }

    /// Every member whose value is a string, in the document's order.
    pub fn string_members(&self) -> Vec<(String, String)> {
        js_sys::Object::entries(&self.0)
            .iter()
            .filter_map(|entry| {
                let entry = js_sys::Array::from(&entry);
                Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
            })
            .collect()
    }

    /// Sets `key` to `value` and returns the object, for building.
    pub fn with(self, key: &str, value: impl Into<JsValue>) -> Object {
        self.set(key, value);
        self
    }

    /// Sets `key` to `value` in place.
    pub fn set(&self, key: &str, value: impl Into<JsValue>) {
        let _ = js_sys::Reflect::set(&self.0, &JsValue::from_str(key), &value.into());
    }

    /// Sets `key` when there is a value; leaves it out otherwise.
    pub fn with_optional(self, key: &str, value: Option<&str>) -> Object {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    /// The object as JSON text.
    pub fn text(&self) -> String {
        js_sys::JSON::stringify(&self.0)
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_else(|| "{}".to_owned())
    }

    /// The object itself, for an event's detail or a property.
    pub fn value(&self) -> &JsValue {
        &self.0
    }
}

impl From<Object> for JsValue {
    fn from(object: Object) -> JsValue {
        object.0.into()
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::Object;

    #[wasm_bindgen_test]
    fn only_objects_parse() {
        for text in ["[1, 2]", "\"text\"", "42", "null", "{not json"] {
            assert!(Object::parse(text).is_none(), "{text} parsed as an object");
        }
        assert!(Object::parse("{}").is_some());
    }

    #[wasm_bindgen_test]
    fn a_field_of_the_wrong_type_reads_as_absent() {
        let document =
            Object::parse(r#"{"name": 7, "count": "7", "list": ["a", 1, "b"], "inner": []}"#)
                .expect("an object");
        assert_eq!(document.string("name"), None);
        assert_eq!(document.number("count"), None);
        assert_eq!(document.strings("list"), ["a", "b"]);
        assert!(document.object("inner").is_none());
        assert!(document.strings("missing").is_empty());
    }

    #[wasm_bindgen_test]
    fn string_members_keep_the_documents_order_and_skip_the_rest() {
        let document =
            Object::parse(r#"{"b": "second", "a": "first", "n": 1}"#).expect("an object");
        assert_eq!(
            document.string_members(),
            [
                ("b".to_owned(), "second".to_owned()),
                ("a".to_owned(), "first".to_owned())
            ]
        );
    }

    #[wasm_bindgen_test]
    fn what_is_built_is_what_is_read_back() {
        let built = Object::new()
            .with("text", "quote \" and ünïcode")
            .with("number", 1.5)
            .with_optional("absent", None)
            .with("inner", Object::new().with("x", "y"));
        let read = Object::parse(&built.text()).expect("its own text parses");
        assert_eq!(read.string("text").as_deref(), Some("quote \" and ünïcode"));
        assert_eq!(read.number("number"), Some(1.5));
        assert_eq!(
            read.text(),
            r#"{"text":"quote \" and ünïcode","number":1.5,"inner":{"x":"y"}}"#
        );
    }
}
