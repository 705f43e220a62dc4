//! What an OWASP CRS deployment needs besides its rule files: the
//! settings `crs-setup.conf` would make (paranoia level, anomaly
//! thresholds), as SecLang loaded before the rules.

/// CRS settings chosen by the operator.
#[derive(Debug, Clone)]
pub struct Settings {
    pub paranoia_level: u8,
    pub inbound_threshold: u32,
    pub outbound_threshold: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            paranoia_level: 1,
            inbound_threshold: 5,
            outbound_threshold: 4,
        }
    }
}

/// The `SecAction`s that set `settings` the way `crs-setup.conf` does
/// (ids 900000–900110, the ids the CRS reserves for them), plus the
/// default actions and the setup version the CRS checks for.
pub fn setup(settings: &Settings) -> String {
    let s = settings;
    format!(
        "SecDefaultAction \"phase:1,log,auditlog,pass\"\n\
         SecDefaultAction \"phase:2,log,auditlog,pass\"\n\
         SecAction \"id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level={}\"\n\
         SecAction \"id:900110,phase:1,nolog,pass,t:none,\
         setvar:tx.inbound_anomaly_score_threshold={},setvar:tx.outbound_anomaly_score_threshold={}\"\n\
         SecAction \"id:900990,phase:1,nolog,pass,t:none,setvar:tx.crs_setup_version=334\"\n",
        s.paranoia_level, s.inbound_threshold, s.outbound_threshold
    )
}
