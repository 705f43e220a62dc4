//! The registry port: pushes and pulls plugins as OCI artifacts in the CNCF
//! Wasm layout (config `application/vnd.wasm.config.v0+json`, one
//! `application/wasm` layer) through `oci-client`, and checks every byte it
//! receives against its digest before anyone uses it.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_wasm::{
    ToConfig, WASM_LAYER_MEDIA_TYPE, WASM_MANIFEST_CONFIG_MEDIA_TYPE, WasmClient, WasmConfig,
};

use super::auth::{self, Explicit};
use super::progress::Progress;
use super::reference::{OciRef, Version};
use super::sha256_digest;
use super::signature;

/// The largest plugin layer accepted, in bytes.
const MAX_LAYER_BYTES: u64 = 256 << 20;
/// The size of each request of a chunked layer upload.
const PUSH_CHUNK_BYTES: usize = 1 << 20;
/// The largest manifest or config blob accepted, in bytes.
const MAX_METADATA_BYTES: usize = 1 << 20;
/// The `created` time stamped on every pushed config, so pushing the same
/// component twice gives the same digest.
const CREATED: &str = "1970-01-01T00:00:00Z";

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Allow plain HTTP to a registry that is not on this machine.
    pub insecure: bool,
    /// Credentials from the command line.
    pub credentials: Explicit,
}

/// A connection to one registry, with its credentials.
pub struct Registry {
    client: WasmClient,
    auth: RegistryAuth,
}

/// A manifest as fetched, checked against its digest.
pub struct Manifest {
    /// The manifest's own digest (`sha256:…` of `raw`).
    pub digest: String,
    pub raw: Vec<u8>,
    pub manifest: OciImageManifest,
}

impl Manifest {
    /// Parses `raw` as a Wasm component manifest (one `application/wasm`
    /// layer); `reference` names it in errors.
    pub fn parse(raw: Vec<u8>, reference: &OciRef) -> Result<Self, String> {
        let manifest: OciImageManifest = serde_json::from_slice(&raw)
            .map_err(|e| format!("{reference}: the manifest is not an OCI image manifest: {e}"))?;
        if manifest.layers.len() != 1 || manifest.layers[0].media_type != WASM_LAYER_MEDIA_TYPE {
            return Err(format!(
                "{reference} is not a Wasm plugin: it must have exactly one `{WASM_LAYER_MEDIA_TYPE}` layer"
            ));
        }
        Ok(Manifest {
            digest: sha256_digest(&raw),
            raw,
            manifest,
        })
    }

    /// The component layer.
    pub fn layer(&self) -> &OciDescriptor {
        &self.manifest.layers[0]
    }
}

impl Registry {
    /// A client for `reference`'s registry. Plain HTTP is used for a
    /// registry on this machine or when `options.insecure`; HTTPS otherwise.
    pub fn connect(reference: &OciRef, options: &Options) -> Result<Self, String> {
        let protocol = match options.insecure || reference.is_loopback() {
            true => ClientProtocol::HttpsExcept(vec![reference.registry.clone()]),
            false => ClientProtocol::Https,
        };
        let config = ClientConfig {
            protocol,
            connect_timeout: Some(Duration::from_secs(5)),
            read_timeout: Some(Duration::from_secs(30)),
            ..ClientConfig::default()
        };
        let auth = auth::credentials(&reference.registry, &options.credentials)?;
        Ok(Registry {
            client: WasmClient::new(oci_client::Client::new(config)),
            auth,
        })
    }

    /// Pushes the component `bytes` under `reference` (a tag) and returns
    /// the manifest as the registry now serves it. The component goes up
    /// in chunks, each one reported to `progress`; a layer the repository
    /// already holds is not sent again.
    pub async fn push(
        &self,
        reference: &OciRef,
        bytes: Vec<u8>,
        title: &str,
        progress: &Progress,
    ) -> Result<Manifest, String> {
        let failed = |e: oci_client::errors::OciDistributionError| {
            format!("cannot push to {reference}: {}", chain(&e))
        };
        let (config, layer) = WasmConfig::from_raw_component(bytes, None)
            .map_err(|e| format!("not a Wasm component: {e:#}"))?;
        let annotations = BTreeMap::from([(
            "org.opencontainers.image.title".to_string(),
            title.to_string(),
        )]);
        let config = described(config)?
            .with_annotations(annotations.clone())
            .to_config()
            .map_err(|e| format!("cannot describe the component: {e:#}"))?;
        let mut manifest =
            OciImageManifest::build(std::slice::from_ref(&layer), &config, Some(annotations));
        manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.to_string());
        let image = reference.to_client();
        self.client
            .store_auth_if_needed(image.resolve_registry(), &self.auth)
            .await;
        let digest = layer.sha256_digest();
        let total = layer.data.len() as u64;
        if !self
            .client
            .blob_exists(&image, &digest)
            .await
            .map_err(failed)?
        {
            let chunks = chunks_with_progress(layer.data, progress);
            self.client
                .push_blob_stream(&image, chunks, &digest)
                .await
                .map_err(failed)?;
        }
        progress.advance(total, total);
        self.client
            .push_blob(&image, config.data, &manifest.config.digest)
            .await
            .map_err(failed)?;
        self.client
            .push_manifest(&image, &manifest.into())
            .await
            .map_err(failed)?;
        self.manifest(reference).await.map_err(|e| e.to_string())
    }

    /// Fetches the manifest of `reference`, asking for the OCI media type
    /// (distribution 2.8 answers 404 otherwise). A digest pin is checked
    /// against the bytes received.
    pub async fn manifest(&self, reference: &OciRef) -> Result<Manifest, FetchError> {
        let (raw, _) = self
            .client
            .pull_manifest_raw(&reference.to_client(), &self.auth, &[OCI_IMAGE_MEDIA_TYPE])
            .await
            .map_err(|e| FetchError::from_client(reference, e))?;
        if raw.len() > MAX_METADATA_BYTES {
            let message = format!("{reference}: the manifest is over {MAX_METADATA_BYTES} bytes");
            return Err(FetchError::Refused(message));
        }
        let manifest = Manifest::parse(raw.to_vec(), reference).map_err(FetchError::Refused)?;
        if let Version::Digest(pinned) = &reference.version
            && manifest.digest != *pinned
        {
            return Err(FetchError::Refused(format!(
                "{reference}: refused, the registry served a manifest whose digest is {} instead of the pinned one",
                manifest.digest
            )));
        }
        Ok(manifest)
    }

    /// Downloads the component layer of `manifest` and checks its size and
    /// sha256 against the manifest.
    pub async fn layer(
        &self,
        reference: &OciRef,
        manifest: &Manifest,
        progress: Option<&Progress>,
    ) -> Result<Vec<u8>, String> {
        let layer = manifest.layer();
        let size = u64::try_from(layer.size).unwrap_or(u64::MAX);
        if size > MAX_LAYER_BYTES {
            return Err(format!(
                "{reference}: the component layer is {size} bytes, over the {MAX_LAYER_BYTES} limit"
            ));
        }
        let mut stream = self
            .client
            .pull_blob_stream(&reference.to_client(), layer)
            .await
            .map_err(|e| format!("cannot download {} from {reference}: {e}", layer.digest))?;
        let mut bytes = Vec::with_capacity(size as usize);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| tampered_or(reference, &layer.digest, e.to_string()))?;
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > size {
                return Err(tampered_or(
                    reference,
                    &layer.digest,
                    "more bytes than the manifest says".into(),
                ));
            }
            if let Some(progress) = progress {
                progress.advance(bytes.len() as u64, size);
            }
        }
        let actual = sha256_digest(&bytes);
        if actual != layer.digest || bytes.len() as u64 != size {
            return Err(tampered_or(
                reference,
                &layer.digest,
                format!("received {} bytes with digest {actual}", bytes.len()),
            ));
        }
        Ok(bytes)
    }

    /// The Wasm config blob of `manifest` (world, imports, exports).
    pub async fn config(
        &self,
        reference: &OciRef,
        manifest: &Manifest,
    ) -> Result<serde_json::Value, String> {
        let descriptor = &manifest.manifest.config;
        if descriptor.media_type != WASM_MANIFEST_CONFIG_MEDIA_TYPE {
            return Err(format!(
                "{reference}: the config is `{}`, not `{WASM_MANIFEST_CONFIG_MEDIA_TYPE}`",
                descriptor.media_type
            ));
        }
        let mut bytes = Vec::new();
        self.client
            .pull_blob(&reference.to_client(), descriptor, &mut bytes)
            .await
            .map_err(|e| format!("cannot download the config of {reference}: {e}"))?;
        if bytes.len() > MAX_METADATA_BYTES || sha256_digest(&bytes) != descriptor.digest {
            return Err(format!(
                "{reference}: refused, the config blob does not match its digest {}",
                descriptor.digest
            ));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("{reference}: the config is not JSON: {e}"))
    }

    /// The signature artifact of manifest `digest` (`sha256-<hex>.sig`),
    /// raw and parsed; `None` when there is none.
    pub async fn signatures(
        &self,
        reference: &OciRef,
        digest: &str,
    ) -> Result<Option<(Vec<u8>, OciImageManifest)>, FetchError> {
        use oci_client::errors::{OciDistributionError as E, OciErrorCode};
        let tagged = reference.at(Version::Tag(signature::tag(digest)));
        let raw = match self
            .client
            .pull_manifest_raw(&tagged.to_client(), &self.auth, &[OCI_IMAGE_MEDIA_TYPE])
            .await
        {
            Ok((raw, _)) => raw,
            Err(E::ImageManifestNotFoundError(_)) => return Ok(None),
            Err(E::RegistryError { envelope, .. })
                if envelope.errors.iter().any(|e| {
                    matches!(
                        e.code,
                        OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
                    )
                }) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(FetchError::from_client(&tagged, e)),
        };
        let manifest = serde_json::from_slice(&raw)
            .map_err(|e| FetchError::Refused(format!("{tagged}: not an OCI manifest: {e}")))?;
        Ok(Some((raw.to_vec(), manifest)))
    }

    /// Adds `key`'s signature of manifest `digest` to its signature
    /// artifact (replacing an earlier one by the same key).
    pub async fn push_signature(
        &self,
        reference: &OciRef,
        digest: &str,
        key: &ring::signature::Ed25519KeyPair,
    ) -> Result<(), String> {
        let tagged = reference.at(Version::Tag(signature::tag(digest)));
        let new = signature::sign(key, digest);
        let mine = new
            .annotations
            .as_ref()
            .and_then(|a| a.get(signature::KEY))
            .cloned();
        let mut layers = match self
            .signatures(reference, digest)
            .await
            .map_err(|e| e.to_string())?
        {
            Some((_, existing)) => existing
                .layers
                .into_iter()
                .filter(|l| {
                    l.annotations.as_ref().and_then(|a| a.get(signature::KEY)) != mine.as_ref()
                })
                .map(|l| {
                    oci_client::client::ImageLayer::new(
                        signature::payload(digest),
                        l.media_type,
                        l.annotations,
                    )
                })
                .collect(),
            None => Vec::new(),
        };
        layers.push(new);
        let (manifest, config) = signature::manifest(&layers);
        let client: &oci_client::Client = self.client.as_ref();
        client
            .push(
                &tagged.to_client(),
                &layers,
                config,
                &self.auth,
                Some(manifest),
            )
            .await
            .map_err(|e| format!("cannot push the signature to {tagged}: {}", chain(&e)))?;
        Ok(())
    }

    /// Every tag of `repository`, as the registry lists them.
    pub async fn tags(&self, reference: &OciRef) -> Result<Vec<String>, String> {
        let response = self
            .client
            .list_tags(&reference.to_client(), &self.auth, None, None)
            .await
            .map_err(|e| {
                format!(
                    "cannot list the tags of {}/{}: {e}",
                    reference.registry, reference.repository
                )
            })?;
        Ok(response.tags)
    }
}

/// Why a manifest could not be had.
#[derive(Debug)]
pub enum FetchError {
    /// The registry could not be reached (refused, timed out, 5xx): a
    /// cached copy may stand in.
    Unreachable(String),
    /// The registry answered, and the answer is refused (missing, denied,
    /// not a plugin, digest mismatch).
    Refused(String),
}

impl FetchError {
    fn from_client(reference: &OciRef, error: oci_client::errors::OciDistributionError) -> Self {
        use oci_client::errors::OciDistributionError as E;
        let unreachable = match &error {
            E::RequestError(e) => e.is_connect() || e.is_timeout() || e.is_request(),
            E::ServerError { code, .. } => *code >= 500,
            _ => false,
        };
        let message = format!(
            "cannot fetch the manifest of {reference}: {}",
            chain(&error)
        );
        match unreachable {
            true => FetchError::Unreachable(message),
            false => FetchError::Refused(message),
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unreachable(m) | FetchError::Refused(m) => f.write_str(m),
        }
    }
}

/// An error with its causes, `: `-separated (reqwest keeps the useful part
/// in the source chain).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `config` made reproducible and precise: `created` pinned, so equal
/// components give equal digests; the component's world recorded as
/// `target` (oci-wasm leaves it empty); and the imports reduced to the
/// interfaces the component needs (oci-wasm also lists the type names a
/// world `use`s, which are not imports a host provides).
fn described(config: WasmConfig) -> Result<WasmConfig, String> {
    let mut json = serde_json::to_value(&config).map_err(|e| e.to_string())?;
    json["created"] = serde_json::Value::String(CREATED.into());
    let component = &mut json["component"];
    if let Some(imports) = component["imports"].as_array_mut() {
        imports.retain(|name| name.as_str().is_some_and(|n| n.contains(':')));
    }
    component["target"] = match contract_world(&component["imports"]) {
        Some(world) => serde_json::Value::String(world),
        None => serde_json::Value::Null,
    };
    serde_json::from_value(json).map_err(|e| e.to_string())
}

/// `ravelin:plugin/filter@VERSION` when the component imports the plugin
/// contract's interfaces at VERSION.
fn contract_world(imports: &serde_json::Value) -> Option<String> {
    imports.as_array()?.iter().find_map(|name| {
        let version = name
            .as_str()?
            .strip_prefix("ravelin:plugin/")?
            .split_once('@')?
            .1;
        Some(format!("ravelin:plugin/filter@{version}"))
    })
}

/// `data` as a stream of upload chunks; asking for a chunk means the ones
/// before it are stored, which is what `progress` is told.
fn chunks_with_progress<'a>(
    data: bytes::Bytes,
    progress: &'a Progress,
) -> impl futures_util::Stream<Item = oci_client::errors::Result<bytes::Bytes>> + 'a {
    let total = data.len() as u64;
    let starts = (0..data.len()).step_by(PUSH_CHUNK_BYTES);
    futures_util::stream::iter(starts).map(move |start| {
        progress.advance(start as u64, total);
        Ok(data.slice(start..(start + PUSH_CHUNK_BYTES).min(data.len())))
    })
}

fn tampered_or(reference: &OciRef, digest: &str, detail: String) -> String {
    format!(
        "{reference}: refused, the component layer does not match its digest {digest} \
         (tampered with or corrupted in the registry): {detail}"
    )
}
