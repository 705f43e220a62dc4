//! One certificate order with instant-acme: the account (restored from the
//! store, or registered and stored), the order, the challenges answered
//! through [`AcmeResolver`] or [`HTTP01`], the CSR (a fresh P-256 key made
//! here) and the issued chain. Errors carry the CA's problem document.

use std::time::Duration;

use bytes::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instant_acme::{
    Account, AuthorizationStatus, BodyWrapper, ChallengeType, Identifier, NewAccount, NewOrder,
    Order, OrderStatus, RetryPolicy,
};
use rcgen::{CertificateParams, DistinguishedName, KeyPair};

use super::certificate;
use super::challenge::{AcmeResolver, HTTP01};
use super::store::Store;
use crate::config::acme::{Acme, Challenge};

/// How long the CA may take to validate, then to issue.
const POLL: RetryPolicy = RetryPolicy::new()
    .initial_delay(Duration::from_millis(250))
    .backoff(1.5)
    .timeout(Duration::from_secs(90));

/// The account on the configured directory: the stored one, or a new one
/// (then stored). `roots` verify the directory's HTTPS.
pub async fn account(
    settings: &Acme,
    store: &Store,
    roots: rustls::RootCertStore,
) -> Result<Account, String> {
    let builder = Account::builder_with_http(Box::new(http_client(roots)?));
    if let Some(credentials) = store.account(&settings.directory)? {
        return builder
            .from_credentials(credentials)
            .await
            .map_err(|e| format!("cannot restore the ACME account: {}", why(&e)));
    }
    let contact: Vec<&str> = settings.contact.iter().map(String::as_str).collect();
    let new = NewAccount {
        contact: &contact,
        terms_of_service_agreed: true,
        only_return_existing: false,
    };
    let (account, credentials) = builder
        .create(&new, settings.directory.clone(), None)
        .await
        .map_err(|e| {
            format!(
                "cannot register an ACME account at {}: {}",
                settings.directory,
                why(&e)
            )
        })?;
    store.save_account(&settings.directory, credentials)?;
    tracing::info!(directory = %settings.directory, "ACME account registered: {}", account.id());
    Ok(account)
}

/// Orders a certificate for `settings.domains`; returns the PEM chain and key.
pub async fn issue(
    account: &Account,
    settings: &Acme,
    resolver: &AcmeResolver,
) -> Result<(String, String), String> {
    let identifiers: Vec<Identifier> = settings
        .domains
        .iter()
        .map(|d| Identifier::Dns(d.clone()))
        .collect();
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .map_err(|e| format!("cannot place an order: {}", why(&e)))?;
    let mut answers = Answers {
        resolver,
        tokens: Vec::new(),
    };
    let answered = answer_challenges(&mut order, settings.challenge, &mut answers).await;
    let status = match answered {
        Ok(()) => order
            .poll_ready(&POLL)
            .await
            .map_err(|e| format!("validation failed: {}", why(&e))),
        Err(e) => Err(e),
    };
    drop(answers);
    if status? != OrderStatus::Ready {
        return Err(format!(
            "validation failed: {}",
            why_invalid(&mut order).await
        ));
    }
    let key = KeyPair::generate().map_err(|e| format!("cannot make a key: {e}"))?;
    let mut params = CertificateParams::new(settings.domains.clone())
        .map_err(|e| format!("cannot make the certificate request: {e}"))?;
    params.distinguished_name = DistinguishedName::new();
    let csr = params
        .serialize_request(&key)
        .map_err(|e| format!("cannot make the certificate request: {e}"))?;
    order
        .finalize_csr(csr.der())
        .await
        .map_err(|e| format!("the CA refused the certificate request: {}", why(&e)))?;
    let chain = order
        .poll_certificate(&POLL)
        .await
        .map_err(|e| format!("the certificate was not issued: {}", why(&e)))?;
    Ok((chain, key.serialize_pem()))
}

/// The challenge answers of one order, withdrawn when it is dropped: after
/// validation, on an error, or when the attempt is abandoned mid-way.
struct Answers<'a> {
    resolver: &'a AcmeResolver,
    /// HTTP-01 tokens this order added.
    tokens: Vec<String>,
}

impl Drop for Answers<'_> {
    fn drop(&mut self) {
        self.resolver.clear_challenges();
        for token in &self.tokens {
            HTTP01.remove(token);
        }
    }
}

/// Puts each pending authorization's answer in place, then tells the CA.
async fn answer_challenges(
    order: &mut Order,
    kind: Challenge,
    answers: &mut Answers<'_>,
) -> Result<(), String> {
    let wanted = match kind {
        Challenge::TlsAlpn01 => ChallengeType::TlsAlpn01,
        Challenge::Http01 => ChallengeType::Http01,
    };
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization =
            authorization.map_err(|e| format!("cannot read an authorization: {}", why(&e)))?;
        if authorization.status == AuthorizationStatus::Valid {
            continue;
        }
        let mut challenge = authorization
            .challenge(wanted.clone())
            .ok_or_else(|| format!("the CA offers no {wanted:?} challenge"))?;
        let domain = challenge.identifier().to_string();
        let key_authorization = challenge.key_authorization();
        match kind {
            Challenge::TlsAlpn01 => {
                let digest = key_authorization.digest();
                answers
                    .resolver
                    .add_challenge(&domain, certificate::challenge(&domain, digest.as_ref())?);
            }
            Challenge::Http01 => {
                HTTP01.add(&challenge.token, key_authorization.as_str());
                answers.tokens.push(challenge.token.clone());
            }
        }
        challenge
            .set_ready()
            .await
            .map_err(|e| format!("{domain}: the CA refused the challenge: {}", why(&e)))?;
    }
    Ok(())
}

/// The problems the CA recorded on an invalid order's challenges.
async fn why_invalid(order: &mut Order) -> String {
    let mut reasons = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(authorization)) = authorizations.next().await {
        for challenge in &authorization.challenges {
            if let Some(problem) = &challenge.error {
                reasons.push(format!("{}: {problem}", authorization.identifier()));
            }
        }
    }
    match reasons.is_empty() {
        true => "the order is invalid (the CA gave no reason)".into(),
        false => reasons.join("; "),
    }
}

/// An instant-acme error with its causes: the CA's problem document, or
/// what broke underneath (refused connection, untrusted certificate), which
/// the top-level message alone hides.
fn why(error: &instant_acme::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        let more = e.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = e.source();
    }
    text
}

/// The HTTPS client to the directory, on the project's ring provider.
fn http_client(
    roots: rustls::RootCertStore,
) -> Result<
    Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        BodyWrapper<Bytes>,
    >,
    String,
> {
    let tls = crate::tls::client_config_with_roots(roots, None)?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .enable_http2()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// The roots that verify the directory: the system's, plus `directory_ca`.
pub fn directory_roots(ca: Option<&std::path::Path>) -> Result<rustls::RootCertStore, String> {
    let mut roots = crate::tls::system_roots();
    if let Some(ca) = ca {
        for cert in crate::tls::load_certs(ca)? {
            roots
                .add(cert)
                .map_err(|e| format!("{}: unusable CA certificate: {e}", ca.display()))?;
        }
    }
    Ok(roots)
}
