//! The evaluator on small rule sets: chains, markers, setvar and macros,
//! ctl, anomaly scoring, limits, errors with file and line.

use seclang::{Limits, MapFiles, RequestHead, RuleSet, Transaction};

fn rules(text: &str) -> RuleSet {
    let mut files = MapFiles::default();
    files.0.insert("r.conf".into(), text.into());
    RuleSet::load(&files, &["r.conf".into()]).unwrap_or_else(|e| panic!("{e}"))
}

fn get(uri: &str) -> RequestHead {
    RequestHead {
        method: "GET".into(),
        uri: uri.into(),
        protocol: "HTTP/1.1".into(),
        headers: vec![("Host".into(), b"example.com".to_vec())],
        remote_addr: "192.0.2.1".into(),
        request_id: "r1".into(),
    }
}

fn run(rules: &RuleSet, head: RequestHead, body: &[u8]) -> Transaction {
    let mut tx = Transaction::new(rules, head, Limits::default());
    if tx.request_headers(rules).is_none() {
        tx.request_body(rules, body);
    }
    tx
}

const SCORING: &str = r#"
SecDefaultAction "phase:2,log,pass"
SecAction "id:1,phase:1,nolog,pass,setvar:tx.threshold=5"
SecRule ARGS "@rx (?i)evil" "id:10,phase:2,block,t:none,t:lowercase,msg:'evil in %{MATCHED_VAR_NAME}',setvar:'tx.score=+%{tx.threshold}'"
SecRule ARGS_NAMES "@streq skip" "id:11,phase:2,pass,nolog,skipAfter:END"
SecRule ARGS "@contains bad" "id:12,phase:2,pass,setvar:tx.score=+5"
SecMarker END
SecRule TX:SCORE "@ge %{tx.threshold}" "id:99,phase:2,deny,status:403,msg:'score %{tx.score}'"
"#;

#[test]
fn anomaly_score_blocks_and_each_match_counts() {
    let r = rules(SCORING);
    let tx = run(&r, get("/?a=EVIL&b=evil"), b"");
    let i = tx.interruption.clone().unwrap();
    assert_eq!((i.status, i.rule), (403, Some(99)));
    assert_eq!(i.reason, "score 10");
    assert_eq!(tx.matches[0].msg, "evil in ARGS:b");
    assert!(run(&r, get("/?a=fine"), b"").interruption.is_none());
}

#[test]
fn skip_after_jumps_to_the_marker() {
    let r = rules(SCORING);
    assert!(run(&r, get("/?a=bad"), b"").interruption.is_some());
    assert!(run(&r, get("/?a=bad&skip=1"), b"").interruption.is_none());
}

#[test]
fn chains_need_every_link_and_see_earlier_captures() {
    let r = rules(
        r#"
SecRule REQUEST_FILENAME "@rx \.([a-z]+)$" "id:5,phase:1,deny,capture,setvar:tx.ext=.%{tx.1}/,chain"
    SecRule TX:EXT "@within .sql/ .bak/" "t:none"
"#,
    );
    assert_eq!(
        run(&r, get("/dump.sql"), b"").interruption.unwrap().rule,
        Some(5)
    );
    assert!(run(&r, get("/index.html"), b"").interruption.is_none());
}

#[test]
fn ctl_and_exclusions_narrow_rules() {
    let r = rules(
        r#"
SecRule ARGS:debug "@streq 1" "id:1,phase:1,pass,nolog,ctl:ruleRemoveTargetById=20;ARGS:q"
SecRule REQUEST_FILENAME "@beginsWith /public" "id:2,phase:1,pass,nolog,ctl:ruleRemoveById=20"
SecRule ARGS|!ARGS:safe "@contains x" "id:20,phase:2,deny"
"#,
    );
    assert!(run(&r, get("/?q=x"), b"").interruption.is_some());
    assert!(run(&r, get("/?q=x&debug=1"), b"").interruption.is_none());
    assert!(run(&r, get("/public/?q=x"), b"").interruption.is_none());
    assert!(run(&r, get("/?safe=x"), b"").interruption.is_none());
}

#[test]
fn bodies_reach_args() {
    let r =
        rules(r#"SecRule ARGS_POST:json.user.name|FILES "@rx root|\.php$" "id:1,phase:2,deny""#);
    let mut head = get("/");
    head.method = "POST".into();
    head.headers
        .push(("Content-Type".into(), b"application/json".to_vec()));
    assert!(
        run(&r, head.clone(), br#"{"user":{"name":"root"}}"#)
            .interruption
            .is_some()
    );
    assert!(
        run(&r, head, br#"{"user":{"name":"alice"}}"#)
            .interruption
            .is_none()
    );
}

#[test]
fn limits_refuse_pathological_requests_clearly() {
    let r = rules(r#"SecRule ARGS "@unconditionalMatch" "id:1,phase:2,pass""#);
    let many: Vec<String> = (0..1001).map(|i| format!("a{i}=1")).collect();
    let tx = run(&r, get(&format!("/?{}", many.join("&"))), b"");
    let i = tx.interruption.unwrap();
    assert_eq!(
        (i.status, i.reason.as_str()),
        (400, "1001 arguments exceed max_args 1000")
    );
    let mut head = get("/");
    head.headers.push(("Cookie".into(), vec![b'a'; 9000]));
    assert_eq!(run(&r, head, b"").interruption.unwrap().status, 431);
    let mut head = get("/");
    head.method = "POST".into();
    head.headers
        .push(("Content-Type".into(), b"application/json".to_vec()));
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let i = run(&r, head, deep.as_bytes()).interruption.unwrap();
    assert_eq!(
        (i.status, i.reason.as_str()),
        (400, "JSON body nested deeper than 64 levels")
    );
}

#[test]
fn errors_name_file_and_line() {
    let mut files = MapFiles::default();
    files.0.insert(
        "a.conf".into(),
        "SecRule ARGS \"@rx x\" \"id:1,pass\"\n\nSecFrobnicate On\n".into(),
    );
    files.0.insert(
        "b.conf".into(),
        "SecRule ARGS \"@rx x\" \\\n  \"id:1,explode\"\n".into(),
    );
    files
        .0
        .insert("c.conf".into(), "SecRule NOPE \"@rx x\" \"id:1\"\n".into());
    files
        .0
        .insert("d.conf".into(), "Include missing.conf\n".into());
    let err = |name: &str| {
        RuleSet::load(&files, &[name.into()])
            .err()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        err("a.conf"),
        "a.conf:3: unsupported directive SecFrobnicate"
    );
    assert_eq!(err("b.conf"), "b.conf:1: unsupported action explode");
    assert_eq!(err("c.conf"), "c.conf:1: unsupported variable NOPE");
    assert_eq!(
        err("d.conf"),
        "d.conf:1: Include \"missing.conf\": no such file"
    );
}

#[test]
fn detection_only_records_without_interrupting() {
    let r = rules(
        "SecRuleEngine DetectionOnly\nSecRule ARGS \"@rx x\" \"id:1,phase:1,deny,msg:'x seen'\"\n",
    );
    let tx = run(&r, get("/?a=x"), b"");
    assert!(tx.interruption.is_none());
    assert_eq!(tx.matches[0].msg, "x seen");
}

#[test]
fn response_phases_see_status_headers_and_body() {
    let r = rules(
        r#"
SecRule RESPONSE_HEADERS:X-Powered-By "@contains PHP" "id:30,phase:3,pass,setvar:tx.leak=1"
SecRule RESPONSE_BODY "@rx (?i)you have an error in your sql syntax" "id:40,phase:4,deny,status:502,msg:'SQL error leak'"
"#,
    );
    let mut tx = run(&r, get("/"), b"");
    let headers = vec![("X-Powered-By".to_string(), b"PHP/8.2".to_vec())];
    assert!(tx.response_headers(&r, 200, &headers).is_none());
    assert_eq!(tx.tx("leak").as_deref(), Some("1"));
    let i = tx
        .response_body(&r, b"<p>You have an error in your SQL syntax near</p>")
        .unwrap();
    assert_eq!((i.status, i.rule), (502, Some(40)));
}
