//! A real ACME CA for the tests: Debian's `pebble`, started on 127.0.0.1
//! free ports with a config written here, its HTTPS certificate issued by a
//! [`Pki`] made on the spot (the package ships none), real validation
//! (`PEBBLE_VA_ALWAYS_VALID` unset) of the proxy's listeners on the ports
//! given, no nonce rejections and no authorization reuse. Pebble makes a
//! new issuing root at every start: [`Pebble::issuing_roots`] fetches it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::{Pki, free_port};

pub struct Pebble {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// The ACME directory URL.
    pub directory: String,
    pub management: SocketAddr,
    /// The CA of pebble's own HTTPS certificate, as a PEM file (the proxy's
    /// `directory_ca`).
    pub https_ca: PathBuf,
    https_pki: Pki,
    http_port: u16,
    tls_port: u16,
    validity: Option<u64>,
}

impl Pebble {
    /// Starts pebble validating http-01 on `http_port` and tls-alpn-01 on
    /// `tls_port` of each domain; `validity` (seconds) shortens the
    /// certificates it issues. Waits until its directory answers.
    pub fn start(http_port: u16, tls_port: u16, validity: Option<u64>) -> Pebble {
        let dir = tempfile::tempdir().expect("temp dir");
        let https_pki = Pki::named("pebble HTTPS test CA");
        https_pki.issue(&["127.0.0.1", "localhost"], dir.path(), "pebble");
        let https_ca = https_pki.write_ca(dir.path());
        let mut pebble = Pebble {
            child: None,
            directory: String::new(),
            management: SocketAddr::from(([127, 0, 0, 1], 0)),
            https_ca,
            https_pki,
            dir,
            http_port,
            tls_port,
            validity,
        };
        pebble.resume();
        pebble
    }

    /// Starts it again after [`Pebble::stop`] (new ports, new issuing root).
    pub fn resume(&mut self) {
        let (listen, management) = (free_port(), free_port());
        let validity = self
            .validity
            .map(|s| format!(r#", "certificateValidityPeriod": {s}"#))
            .unwrap_or_default();
        let config = format!(
            r#"{{"pebble": {{
  "listenAddress": "127.0.0.1:{listen}",
  "managementListenAddress": "127.0.0.1:{management}",
  "certificate": "pebble.pem",
  "privateKey": "pebble.key",
  "httpPort": {http},
  "tlsPort": {tls},
  "ocspResponderURL": "",
  "externalAccountBindingRequired": false{validity}
}}}}"#,
            http = self.http_port,
            tls = self.tls_port,
        );
        std::fs::write(self.dir.path().join("pebble.json"), config).expect("pebble config");
        let log = std::fs::File::create(self.dir.path().join("pebble.log")).expect("pebble log");
        let child = Command::new("pebble")
            .args(["-config", "pebble.json"])
            .current_dir(self.dir.path())
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .env_remove("PEBBLE_VA_ALWAYS_VALID")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start pebble (apt-get install pebble; scripts/setup does)");
        self.child = Some(child);
        self.directory = format!("https://127.0.0.1:{listen}/dir");
        self.management = SocketAddr::from(([127, 0, 0, 1], management));
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("pebble exited with {status}:\n{}", self.log());
            }
            let listen = self.directory.trim_start_matches("https://");
            let listen = listen.split('/').next().unwrap_or_default();
            let up = |addr: &str| std::net::TcpStream::connect(addr).is_ok();
            if up(listen) && up(&self.management.to_string()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("pebble did not start listening:\n{}", self.log());
    }

    /// Stops pebble (the CA is down until [`Pebble::resume`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }

    /// The root that issues this run's certificates, from the management
    /// interface.
    pub async fn issuing_roots(&self) -> rustls::RootCertStore {
        let client = crate::client::client(Some(self.https_pki.roots()), false);
        let url = format!("https://{}/roots/0", self.management);
        let answer = crate::client::get(&client, &url)
            .await
            .expect("pebble root");
        assert_eq!(answer.status, 200, "{}", answer.text());
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&answer.body) {
            roots.add(cert.expect("root PEM")).expect("root");
        }
        roots
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The certificate chain `addr` serves for SNI `name`, verified against
/// `roots` (`Err`: the handshake failed, with why).
pub async fn served_chain(
    addr: SocketAddr,
    name: &str,
    roots: rustls::RootCertStore,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let server = ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?;
    let stream = tokio::time::timeout(Duration::from_secs(10), connector.connect(server, tcp))
        .await
        .map_err(|_| "handshake timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let chain = stream.get_ref().1.peer_certificates().unwrap_or_default();
    Ok(chain.iter().map(|c| c.clone().into_owned()).collect())
}

/// An HTTPS client that accepts any server certificate, to reach a
/// listener serving the self-signed ACME fallback (and nothing else).
pub fn any_certificate_client() -> crate::client::HttpsClient {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .build();
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector)
}

#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
