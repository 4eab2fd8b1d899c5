//! One configuration from several files (`BRIDGE_CONFIG` naming several files or a folder):
//! their sections merge, key by key; the same key set to two different values is an error
//! naming both files and lines.

use std::collections::BTreeMap;

use serde_norway::{Mapping, Value};

use super::{Config, clean_message};
use crate::error::ConfigError;

/// Where a key was first set: file name and line.
type Origins = BTreeMap<String, (String, Option<usize>)>;

impl Config {
    /// The configuration of several YAML files, each given as (name, text), merged section by
    /// section. One file is read exactly as [`Config::from_yaml`] reads it.
    pub fn from_yaml_files(files: &[(String, String)]) -> Result<Self, ConfigError> {
        if let [(_, text)] = files {
            return Config::from_yaml(text);
        }
        let mut merged = Mapping::new();
        let mut origins = Origins::new();
        for (name, text) in files {
            let value: Value = serde_norway::from_str(text).map_err(|e| {
                ConfigError::new("", format!("{name}: {e}"))
                    .at(e.location().map(|l| l.line()), e.location().map(|l| l.column()))
            })?;
            let Value::Mapping(map) = value else {
                return Err(ConfigError::new("", format!("{name}: the file is not a mapping of sections")));
            };
            merge_into(&mut merged, map, "", &File { name, text }, &mut origins)?;
        }
        let config: Config = serde_path_to_error::deserialize(Value::Mapping(merged)).map_err(|e| {
            let field = e.path().to_string();
            let origin = origins.get(field.split('.').next().unwrap_or_default()).map(|(f, _)| f.as_str());
            let message = clean_message(&e.into_inner().to_string(), &field);
            let message = match origin {
                Some(file) => format!("{file}: {message}"),
                None => message,
            };
            ConfigError::new(field, message)
        })?;
        config.validate()?;
        Ok(config)
    }
}

struct File<'a> {
    name: &'a str,
    text: &'a str,
}

fn merge_into(
    dst: &mut Mapping,
    src: Mapping,
    prefix: &str,
    file: &File<'_>,
    origins: &mut Origins,
) -> Result<(), ConfigError> {
    for (key, value) in src {
        let name = match &key {
            Value::String(s) => s.clone(),
            other => serde_norway::to_string(other).unwrap_or_default().trim().to_string(),
        };
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        let line = line_of(file.text, &path);
        match dst.get_mut(&key) {
            None => {
                record(origins, &path, &value, file);
                dst.insert(key, value);
            }
            Some(Value::Mapping(existing)) if matches!(value, Value::Mapping(_)) => {
                let Value::Mapping(incoming) = value else { continue };
                merge_into(existing, incoming, &path, file, origins)?;
            }
            Some(existing) if *existing == value => {}
            Some(_) => {
                let (first, first_line) = origins.get(&path).cloned().unwrap_or_default();
                let at = |f: &str, l: Option<usize>| match l {
                    Some(l) => format!("{f} line {l}"),
                    None => f.to_string(),
                };
                return Err(ConfigError::new(
                    path,
                    format!(
                        "set to different values in {} and {}; keep one",
                        at(&first, first_line),
                        at(file.name, line)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Records where `path` and every key under it were set.
fn record(origins: &mut Origins, path: &str, value: &Value, file: &File<'_>) {
    origins.insert(path.to_string(), (file.name.to_string(), line_of(file.text, path)));
    if let Value::Mapping(map) = value {
        for (key, inner) in map {
            if let Value::String(name) = key {
                record(origins, &format!("{path}.{name}"), inner, file);
            }
        }
    }
}

/// The line of `path` (`a.b.c`) in block-style YAML: each key searched at its nesting depth
/// after its parent's line.
fn line_of(text: &str, path: &str) -> Option<usize> {
    let mut from = 0;
    let mut indent = 0;
    let lines: Vec<&str> = text.lines().collect();
    for key in path.split('.') {
        let found = (from..lines.len()).find(|&i| {
            let line = lines[i];
            let trimmed = line.trim_start();
            let depth = line.len() - trimmed.len();
            depth >= indent && (trimmed.starts_with(&format!("{key}:")) || trimmed.starts_with(&format!("\"{key}\":")))
        })?;
        indent = lines[found].len() - lines[found].trim_start().len() + 1;
        from = found + 1;
    }
    Some(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> (String, String) {
        (name.to_string(), text.to_string())
    }

    #[test]
    fn sections_of_several_files_merge_and_equal_values_agree() {
        let a = file(
            "escalate.yaml",
            "version: 1\nintercom:\n  bot_admin_id: '9'\nescalation:\n  rules:\n    - { name: t, when: { tag_added: x } }\n",
        );
        let b = file(
            "status.yaml",
            "version: 1\nintercom:\n  bot_admin_id: '9'\n  ticket_url_attribute: zendesk_ticket_url\nticket_status:\n  on: { solved: { conversation: close } }\n",
        );
        let c = Config::from_yaml_files(&[a, b]).unwrap();
        assert!(c.escalation.is_some() && c.ticket_status.is_some());
        assert_eq!(c.intercom.ticket_url_attribute.as_deref(), Some("zendesk_ticket_url"));
    }

    #[test]
    fn a_clash_names_both_files_and_lines() {
        let a = file("escalate.yaml", "version: 1\nintercom:\n  bot_admin_id: '9'\n");
        let b =
            file("status.yaml", "# status\nversion: 1\nintercom:\n  ticket_id_attribute: zd\n  bot_admin_id: '7'\n");
        let e = Config::from_yaml_files(&[a, b]).unwrap_err();
        assert_eq!(e.field, "intercom.bot_admin_id");
        assert!(e.message.contains("escalate.yaml line 3") && e.message.contains("status.yaml line 5"), "{e}");
    }

    #[test]
    fn one_file_reads_as_before() {
        let e = Config::from_yaml_files(&[file("only.yaml", "version: 1\nintercom:\n  bot_admin_id: 9\n  nope: 1\n")])
            .unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(4), "intercom.nope"));
    }
}
