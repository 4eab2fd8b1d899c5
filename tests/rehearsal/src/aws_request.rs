//! What an AWS API request asks for, in IAM's terms: the caller's access key, and each action
//! with the resource it acts on (`dynamodb:PutItem` on `arn:aws:dynamodb:...:table/t`).
//!
//! Covers the protocols the bridge's functions and the `bridge` CLI speak: DynamoDB, SQS and
//! Secrets Manager (JSON, `X-Amz-Target`), SNS (query, form body), S3 (REST, path-style) and
//! STS. A request it cannot read is an error, so the rehearsal never lets an unknown call through
//! unchecked.

use std::collections::BTreeMap;

use serde_json::Value;

/// One action on one resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    /// IAM action, `service:Action`.
    pub action: String,
    /// Resource ARN (`*` where the action has no resource).
    pub resource: String,
}

/// A read request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The access key id of the signature.
    pub access_key_id: String,
    /// The API operation (`PutItem`, `SendMessageBatch`, `GetObject`).
    pub operation: String,
    /// What IAM evaluates for it. Empty for calls IAM always allows (`sts:GetCallerIdentity`).
    pub accesses: Vec<Access>,
    /// DynamoDB write request units the request is billed on demand when it succeeds (also when
    /// a condition fails): per item, 1 per KB of the item written, twice that in a transaction.
    /// An update, delete or condition check counts 1 per item, a lower bound (its size is the
    /// stored item's). 0 for every other request.
    pub write_units: u32,
}

/// Where the request went, for the ARNs.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Region of the ARNs.
    pub region: &'a str,
    /// Account of the ARNs.
    pub account: &'a str,
    /// Full ARN of a secret given by name (Secrets Manager accepts either).
    pub secret_arn: &'a (dyn Fn(&str) -> Option<String> + Sync),
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("region", &self.region).field("account", &self.account).finish()
    }
}

/// Reads a request: `headers` with lower-case names, `path` with its query string.
pub fn classify(
    method: &str,
    path_and_query: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    cx: &Context<'_>,
) -> Result<Classified, String> {
    let auth = headers.get("authorization").ok_or("unsigned request (no Authorization header)")?;
    let credential = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split([',', ' ']).next())
        .ok_or("Authorization header without Credential=")?;
    // AKID/date/region/service/aws4_request
    let parts: Vec<&str> = credential.split('/').collect();
    let [akid, _date, _region, service, _] = parts.as_slice() else {
        return Err(format!("unexpected credential scope {credential}"));
    };
    let target = headers.get("x-amz-target").map(String::as_str);
    let write_units = match *service {
        "dynamodb" => dynamodb_write_units(target, body),
        _ => 0,
    };
    let (operation, accesses) = match *service {
        "dynamodb" => dynamodb(target, body, cx)?,
        "sqs" => sqs(target, body, cx)?,
        "secretsmanager" => secretsmanager(target, body, cx)?,
        "sns" => sns(target, body)?,
        "s3" => s3(method, path_and_query, headers)?,
        "sts" => sts(target, body)?,
        other => return Err(format!("the rehearsal cannot read {other} requests")),
    };
    Ok(Classified { access_key_id: (*akid).to_string(), operation, accesses, write_units })
}

/// See [`Classified::write_units`].
fn dynamodb_write_units(target: Option<&str>, body: &[u8]) -> u32 {
    let Ok(b) = json_body(body) else { return 0 };
    let units = |item: Option<&Value>| item.map_or(1, |item| item_size(item).div_ceil(1024).max(1));
    match target.and_then(|t| t.strip_prefix("DynamoDB_20120810.")) {
        Some("PutItem") => units(b.get("Item")),
        Some("UpdateItem" | "DeleteItem") => 1,
        Some("BatchWriteItem") => b
            .get("RequestItems")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|tables| tables.values())
            .filter_map(Value::as_array)
            .flatten()
            .map(|request| match request.get("PutRequest") {
                Some(put) => units(put.get("Item")),
                None => 1,
            })
            .sum(),
        Some("TransactWriteItems") => b
            .get("TransactItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|item| 2 * units(item.get("Put").and_then(|put| put.get("Item"))))
            .sum(),
        _ => 0,
    }
}

/// The size DynamoDB bills an item at: each attribute's name and value in bytes (strings as
/// UTF-8, numbers about one byte per two digits plus one, binaries decoded, 1 for a boolean or
/// null, 3 more for a list or map and 1 per element).
fn item_size(item: &Value) -> u32 {
    let Some(attributes) = item.as_object() else { return 0 };
    attributes.iter().map(|(name, value)| name.len() as u32 + value_size(value)).sum()
}

fn value_size(value: &Value) -> u32 {
    let Some((kind, v)) = value.as_object().and_then(|m| m.iter().next()) else { return 0 };
    let text = |v: &Value| v.as_str().map_or(0, |s| s.len() as u32);
    let number =
        |v: &Value| v.as_str().map_or(0, |s| s.chars().filter(char::is_ascii_digit).count() as u32).div_ceil(2) + 1;
    let binary = |v: &Value| text(v) * 3 / 4;
    let each = |v: &Value, f: &dyn Fn(&Value) -> u32| v.as_array().into_iter().flatten().map(f).sum::<u32>();
    match kind.as_str() {
        "S" => text(v),
        "N" => number(v),
        "B" => binary(v),
        "BOOL" | "NULL" => 1,
        "SS" => each(v, &text),
        "NS" => each(v, &number),
        "BS" => each(v, &binary),
        "L" => 3 + v.as_array().into_iter().flatten().map(|e| 1 + value_size(e)).sum::<u32>(),
        "M" => 3 + v.as_object().into_iter().flatten().map(|(k, e)| 1 + k.len() as u32 + value_size(e)).sum::<u32>(),
        _ => 0,
    }
}

fn json_body(body: &[u8]) -> Result<Value, String> {
    if body.is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(body).map_err(|e| format!("JSON body: {e}"))
}

fn operation(target: Option<&str>, prefix: &str) -> Result<String, String> {
    target
        .and_then(|t| t.strip_prefix(prefix))
        .map(str::to_string)
        .ok_or_else(|| format!("X-Amz-Target {target:?} is not {prefix}<operation>"))
}

fn access(action: impl Into<String>, resource: impl Into<String>) -> Access {
    Access { action: action.into(), resource: resource.into() }
}

fn table_arn(cx: &Context<'_>, table: &str) -> String {
    format!("arn:aws:dynamodb:{}:{}:table/{table}", cx.region, cx.account)
}

fn dynamodb(target: Option<&str>, body: &[u8], cx: &Context<'_>) -> Result<(String, Vec<Access>), String> {
    let op = operation(target, "DynamoDB_20120810.")?;
    let b = json_body(body)?;
    let table = |v: &Value| v.get("TableName").and_then(Value::as_str).map(|t| table_arn(cx, t));
    let mut out = Vec::new();
    match op.as_str() {
        "TransactWriteItems" => {
            for item in b.get("TransactItems").and_then(Value::as_array).into_iter().flatten() {
                for (kind, action) in [
                    ("Put", "PutItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                    ("ConditionCheck", "ConditionCheckItem"),
                ] {
                    if let Some(arn) = item.get(kind).and_then(table) {
                        out.push(access(format!("dynamodb:{action}"), arn));
                    }
                }
            }
        }
        "TransactGetItems" => {
            for item in b.get("TransactItems").and_then(Value::as_array).into_iter().flatten() {
                if let Some(arn) = item.get("Get").and_then(table) {
                    out.push(access("dynamodb:GetItem", arn));
                }
            }
        }
        "BatchGetItem" | "BatchWriteItem" => {
            for name in b.get("RequestItems").and_then(Value::as_object).into_iter().flat_map(|m| m.keys()) {
                out.push(access(format!("dynamodb:{op}"), table_arn(cx, name)));
            }
        }
        "ListTables" => out.push(access("dynamodb:ListTables", "*")),
        _ => {
            let mut arn = table(&b).ok_or_else(|| format!("DynamoDB {op} without TableName"))?;
            if let Some(index) = b.get("IndexName").and_then(Value::as_str) {
                arn = format!("{arn}/index/{index}");
            }
            out.push(access(format!("dynamodb:{op}"), arn));
        }
    }
    out.sort();
    out.dedup();
    Ok((op, out))
}

/// The ARN of a queue URL (`http://host/<account>/<name>`).
pub fn queue_arn(cx: &Context<'_>, url: &str) -> Option<String> {
    let name = url.trim_end_matches('/').rsplit('/').next().filter(|n| !n.is_empty())?;
    Some(format!("arn:aws:sqs:{}:{}:{name}", cx.region, cx.account))
}

fn sqs(target: Option<&str>, body: &[u8], cx: &Context<'_>) -> Result<(String, Vec<Access>), String> {
    let (op, params): (String, BTreeMap<String, String>) = match target {
        Some(_) => {
            let op = operation(target, "AmazonSQS.")?;
            let b = json_body(body)?;
            let params = ["QueueUrl", "QueueName"]
                .iter()
                .filter_map(|k| b.get(*k).and_then(Value::as_str).map(|v| (k.to_string(), v.to_string())))
                .collect();
            (op, params)
        }
        None => {
            let form = form(body);
            (form.get("Action").cloned().ok_or("SQS query request without Action")?, form)
        }
    };
    let action = match op.as_str() {
        "SendMessageBatch" => "SendMessage",
        "DeleteMessageBatch" => "DeleteMessage",
        "ChangeMessageVisibilityBatch" => "ChangeMessageVisibility",
        other => other,
    };
    let resource = if let Some(url) = params.get("QueueUrl") {
        queue_arn(cx, url).ok_or_else(|| format!("SQS {op}: cannot read QueueUrl {url}"))?
    } else if let Some(name) = params.get("QueueName") {
        format!("arn:aws:sqs:{}:{}:{name}", cx.region, cx.account)
    } else {
        "*".to_string()
    };
    Ok((op.clone(), vec![access(format!("sqs:{action}"), resource)]))
}

fn secretsmanager(target: Option<&str>, body: &[u8], cx: &Context<'_>) -> Result<(String, Vec<Access>), String> {
    let op = operation(target, "secretsmanager.")?;
    let b = json_body(body)?;
    let id =
        b.get("SecretId").and_then(Value::as_str).ok_or_else(|| format!("Secrets Manager {op} without SecretId"))?;
    let arn =
        if id.starts_with("arn:") { id.to_string() } else { (cx.secret_arn)(id).unwrap_or_else(|| id.to_string()) };
    Ok((op.clone(), vec![access(format!("secretsmanager:{op}"), arn)]))
}

fn sns(target: Option<&str>, body: &[u8]) -> Result<(String, Vec<Access>), String> {
    let params: BTreeMap<String, String> = match target {
        Some(t) => {
            let b = json_body(body)?;
            let mut m: BTreeMap<String, String> = b
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect();
            m.insert("Action".into(), t.rsplit('.').next().unwrap_or(t).to_string());
            m
        }
        None => form(body),
    };
    let op = params.get("Action").cloned().ok_or("SNS request without Action")?;
    let resource = params.get("TopicArn").or_else(|| params.get("TargetArn")).cloned().unwrap_or_else(|| "*".into());
    Ok((op.clone(), vec![access(format!("sns:{op}"), resource)]))
}

fn sts(target: Option<&str>, body: &[u8]) -> Result<(String, Vec<Access>), String> {
    let op = match target {
        Some(t) => t.rsplit('.').next().unwrap_or(t).to_string(),
        None => form(body).get("Action").cloned().ok_or("STS request without Action")?,
    };
    // GetCallerIdentity needs no permission.
    let accesses = if op == "GetCallerIdentity" {
        Vec::new()
    } else {
        vec![access(format!("sts:{op}"), form(body).get("RoleArn").cloned().unwrap_or_else(|| "*".into()))]
    };
    Ok((op, accesses))
}

fn s3(method: &str, path_and_query: &str, headers: &BTreeMap<String, String>) -> Result<(String, Vec<Access>), String> {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let path = path.trim_start_matches('/');
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) if !k.is_empty() => (b, Some(decode(k))),
        _ => (path.trim_end_matches('/'), None),
    };
    if bucket.is_empty() {
        return Ok(("ListBuckets".into(), vec![access("s3:ListAllMyBuckets", "*")]));
    }
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let has = |q: &str| query.split('&').any(|p| p == q || p.starts_with(&format!("{q}=")));
    let (op, action, resource) = match (method, key) {
        ("GET" | "HEAD", Some(k)) => ("GetObject", "s3:GetObject", format!("{bucket_arn}/{k}")),
        ("PUT", Some(k)) if headers.contains_key("x-amz-copy-source") => {
            ("CopyObject", "s3:PutObject", format!("{bucket_arn}/{k}"))
        }
        ("PUT", Some(k)) => ("PutObject", "s3:PutObject", format!("{bucket_arn}/{k}")),
        ("DELETE", Some(k)) => ("DeleteObject", "s3:DeleteObject", format!("{bucket_arn}/{k}")),
        ("GET", None) if has("location") => ("GetBucketLocation", "s3:GetBucketLocation", bucket_arn),
        ("GET" | "HEAD", None) => ("ListObjects", "s3:ListBucket", bucket_arn),
        ("PUT", None) => ("CreateBucket", "s3:CreateBucket", bucket_arn),
        ("POST", None) if has("delete") => ("DeleteObjects", "s3:DeleteObject", format!("{bucket_arn}/*")),
        (m, k) => return Err(format!("the rehearsal cannot read S3 {m} on bucket {bucket} key {k:?}")),
    };
    Ok((op.into(), vec![access(action, resource)]))
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("k={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cx_secret(name: &str) -> Option<String> {
        (name == "stack/vendor-credentials")
            .then(|| "arn:aws:secretsmanager:us-east-1:123456789012:secret:stack/vendor-credentials-AbCdEf".into())
    }

    fn cx() -> Context<'static> {
        Context { region: "us-east-1", account: "123456789012", secret_arn: &cx_secret }
    }

    fn signed(service: &str, target: Option<&str>) -> BTreeMap<String, String> {
        let mut h = BTreeMap::new();
        h.insert(
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261207/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=ab"
            ),
        );
        if let Some(t) = target {
            h.insert("x-amz-target".into(), t.into());
        }
        h
    }

    fn read(service: &str, target: Option<&str>, method: &str, path: &str, body: &str) -> Classified {
        classify(method, path, &signed(service, target), body.as_bytes(), &cx()).unwrap()
    }

    #[test]
    fn dynamodb_writes_are_billed_per_item_and_kilobyte_and_twice_in_a_transaction() {
        let target = |op: &str| format!("DynamoDB_20120810.{op}");
        // "pk" (2) + "IC#CONV#1" (9) + "version" (7) + 3 (1 digit: 1 + 1, rounded up) = 20 B.
        let small = r#"{"pk":{"S":"IC#CONV#1"},"version":{"N":"3"}}"#;
        assert_eq!(item_size(&serde_json::from_str(small).unwrap()), 20);
        let big = format!(r#"{{"pk":{{"S":"x"}},"body":{{"S":"{}"}}}}"#, "a".repeat(1500));
        let put = |item: &str| format!(r#"{{"TableName":"t","Item":{item}}}"#);
        let units = |op: &str, body: &str| read("dynamodb", Some(&target(op)), "POST", "/", body).write_units;
        assert_eq!(units("PutItem", &put(small)), 1);
        assert_eq!(units("PutItem", &put(&big)), 2, "1,507 B is two kilobytes");
        let transaction = format!(
            r#"{{"TransactItems":[{{"Put":{}}},{{"Put":{}}},{{"Update":{{"TableName":"t"}}}}]}}"#,
            put(small),
            put(&big)
        );
        assert_eq!(units("TransactWriteItems", &transaction), 2 + 4 + 2);
        assert_eq!(units("GetItem", r#"{"TableName":"t","Key":{}}"#), 0);
        assert_eq!(
            read("sqs", Some("AmazonSQS.SendMessage"), "POST", "/", r#"{"QueueUrl":"http://h/1/q"}"#).write_units,
            0
        );
    }

    #[test]
    fn a_transaction_is_one_access_per_item_kind_and_table() {
        let body = r#"{"TransactItems":[{"Put":{"TableName":"t"}},{"Put":{"TableName":"t"}},{"Update":{"TableName":"t"}},{"ConditionCheck":{"TableName":"u"}}]}"#;
        let c = read("dynamodb", Some("DynamoDB_20120810.TransactWriteItems"), "POST", "/", body);
        assert_eq!(c.access_key_id, "ASIAEXAMPLE");
        let actions: Vec<_> = c.accesses.iter().map(|a| format!("{} {}", a.action, a.resource)).collect();
        assert_eq!(
            actions,
            [
                "dynamodb:ConditionCheckItem arn:aws:dynamodb:us-east-1:123456789012:table/u",
                "dynamodb:PutItem arn:aws:dynamodb:us-east-1:123456789012:table/t",
                "dynamodb:UpdateItem arn:aws:dynamodb:us-east-1:123456789012:table/t",
            ]
        );
    }

    #[test]
    fn sqs_batches_are_checked_as_their_single_actions_on_the_queue() {
        let body = r#"{"QueueUrl":"http://127.0.0.1:5000/123456789012/s-escalate-dlq.fifo","Entries":[]}"#;
        let c = read("sqs", Some("AmazonSQS.DeleteMessageBatch"), "POST", "/", body);
        assert_eq!(c.operation, "DeleteMessageBatch");
        assert_eq!(c.accesses, [access("sqs:DeleteMessage", "arn:aws:sqs:us-east-1:123456789012:s-escalate-dlq.fifo")]);
        let c = read("sqs", Some("AmazonSQS.GetQueueUrl"), "POST", "/", r#"{"QueueName":"s-tag-sync.fifo"}"#);
        assert_eq!(c.accesses, [access("sqs:GetQueueUrl", "arn:aws:sqs:us-east-1:123456789012:s-tag-sync.fifo")]);
    }

    #[test]
    fn s3_paths_become_object_and_bucket_arns() {
        let c = read("s3", None, "PUT", "/reports/csat/date%3D2026-12-06/ratings.csv?x-id=PutObject", "");
        assert_eq!(c.accesses, [access("s3:PutObject", "arn:aws:s3:::reports/csat/date=2026-12-06/ratings.csv")]);
        let c = read("s3", None, "GET", "/cfg/bridge.yaml?x-id=GetObject", "");
        assert_eq!(c.accesses, [access("s3:GetObject", "arn:aws:s3:::cfg/bridge.yaml")]);
        let c = read("s3", None, "GET", "/reports?list-type=2&prefix=csat", "");
        assert_eq!(c.accesses, [access("s3:ListBucket", "arn:aws:s3:::reports")]);
    }

    #[test]
    fn sns_query_and_secret_names_resolve() {
        let c = read("sns", None, "POST", "/", "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Message=x");
        assert_eq!(c.accesses, [access("sns:Publish", "arn:aws:sns:us-east-1:1:t")]);
        let c = read(
            "secretsmanager",
            Some("secretsmanager.PutSecretValue"),
            "POST",
            "/",
            r#"{"SecretId":"stack/vendor-credentials"}"#,
        );
        assert!(c.accesses[0].resource.ends_with("vendor-credentials-AbCdEf"), "{:?}", c.accesses);
    }

    #[test]
    fn unknown_or_unsigned_requests_are_errors() {
        assert!(classify("POST", "/", &BTreeMap::new(), b"", &cx()).is_err());
        assert!(classify("POST", "/", &signed("kinesis", None), b"", &cx()).is_err());
        assert!(classify("POST", "/", &signed("dynamodb", Some("Nope.GetItem")), b"{}", &cx()).is_err());
        let c = read("sts", None, "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15");
        assert!(c.accesses.is_empty());
    }
}
