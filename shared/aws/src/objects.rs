//! [`S3Objects`]: reading and writing whole S3 objects (the YAML configuration, the reports).

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

use crate::error::AwsError;

/// `s3://bucket/key`, the name errors and logs give an object.
pub fn object_uri(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// Whole-object reads and writes on S3, with path-style addressing (`<endpoint>/<bucket>/<key>`,
/// so an emulator such as moto answers without a wildcard DNS name).
#[derive(Debug, Clone)]
pub struct S3Objects {
    client: Client,
}

impl S3Objects {
    /// The adapter over an SDK configuration (region, credentials, `AWS_ENDPOINT_URL`).
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build();
        Self { client: Client::from_conf(conf) }
    }

    /// The path-style SDK client (tests create buckets and list objects with it).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The object's body as UTF-8 text.
    pub async fn get_text(&self, bucket: &str, key: &str) -> Result<String, AwsError> {
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| AwsError::S3 {
            operation: "GetObject",
            object: object_uri(bucket, key),
            source,
        };
        let object = self.client.get_object().bucket(bucket).key(key).send().await.map_err(|e| failed(Box::new(e)))?;
        let bytes = object.body.collect().await.map_err(|e| failed(Box::new(e)))?.into_bytes();
        String::from_utf8(bytes.to_vec())
            .map_err(|source| AwsError::NotText { object: object_uri(bucket, key), source })
    }

    /// Writes `body` as the object, with its `Content-Type` (replaces what was there).
    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), AwsError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| AwsError::S3 {
                operation: "PutObject",
                object: object_uri(bucket, key),
                source: Box::new(e),
            })?;
        Ok(())
    }
}
