//! The broken-plan corpus (tests/plans/broken/*.yaml) and the examples (plans/examples/*.yaml),
//! through the real binary (`plan:validate`) and through `load_plan`; plus a no-panic sweep over
//! truncated and mutated plans.
//!
//! Each broken plan starts with one or more lines `# expect: <line>:<col> <rule text>` (or
//! `# expect: <rule text>` where no position applies): one expected issue each, and no others.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rand::{Rng, SeedableRng};
use setops_migrate::plan::{PlanIssue, load_plan};

const BIN: &str = env!("CARGO_BIN_EXE_setops-migrate");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Debug)]
struct Expect {
    position: Option<(u64, u64)>,
    text: String,
}

fn expectations(path: &Path) -> Vec<Expect> {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let expects: Vec<Expect> = text
        .lines()
        .map_while(|line| line.strip_prefix("# expect: "))
        .map(|rest| {
            let (head, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            let position = head
                .split_once(':')
                .and_then(|(l, c)| Some((l.parse().ok()?, c.parse().ok()?)));
            Expect {
                position,
                text: if position.is_some() { tail } else { rest }
                    .trim()
                    .to_owned(),
            }
        })
        .collect();
    assert!(
        !expects.is_empty(),
        "{}: first line must be `# expect: ...`",
        path.display()
    );
    expects
}

fn broken_plans() -> Vec<PathBuf> {
    let mut plans: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/plans/broken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    plans.sort();
    assert!(plans.len() >= 30, "the corpus holds {} plans", plans.len());
    plans
}

fn example_plans() -> Vec<PathBuf> {
    let mut plans: Vec<PathBuf> = std::fs::read_dir(repo().join("plans/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    plans.sort();
    plans
}

/// `plan:validate` with a clean environment in an empty temp working directory.
fn validate(plans: &[&Path]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    Command::new(BIN)
        .arg("plan:validate")
        .args(plans)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(cwd.path())
        .output()
        .unwrap()
}

/// The issue line for `expect`, among lines that start with the plan's path.
fn find_line<'a>(lines: &[&'a str], plan: &Path, expect: &Expect) -> Option<&'a str> {
    let prefix = match expect.position {
        Some((line, col)) => format!("{}:{line}:{col}: ", plan.display()),
        None => format!("{}: ", plan.display()),
    };
    lines
        .iter()
        .copied()
        .find(|l| l.starts_with(&prefix) && l.contains(&expect.text))
}

fn check_issues(plan: &Path, issue_lines: &[&str], expects: &[Expect]) {
    for expect in expects {
        assert!(
            find_line(issue_lines, plan, expect).is_some(),
            "{}: no issue matches {expect:?}; got:\n{}",
            plan.display(),
            issue_lines.join("\n")
        );
    }
    let own: Vec<&&str> = issue_lines
        .iter()
        .filter(|l| l.starts_with(&format!("{}:", plan.display())))
        .collect();
    assert_eq!(
        own.len(),
        expects.len(),
        "{}: expected exactly {} issue(s), got:\n{}",
        plan.display(),
        expects.len(),
        issue_lines.join("\n")
    );
}

#[test]
fn the_binary_refuses_every_broken_plan_with_its_position_and_rule() {
    for plan in broken_plans() {
        let out = validate(&[&plan]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stdout.contains("panicked") && !stderr.contains("panicked"),
            "{}: panic\n{stderr}",
            plan.display()
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: exit code\n{stderr}",
            plan.display()
        );
        assert_eq!(stdout, "", "{}: stdout must be empty", plan.display());
        let lines: Vec<&str> = stderr.lines().collect();
        check_issues(&plan, &lines, &expectations(&plan));
    }
}

#[test]
fn load_plan_reports_the_same_issues_as_the_corpus_expects() {
    for plan in broken_plans() {
        let issues: Vec<PlanIssue> = match load_plan(&plan) {
            Ok(ok) => panic!("{}: accepted: {ok:?}", plan.display()),
            Err(issues) => issues,
        };
        let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
        let lines: Vec<&str> = text.iter().map(String::as_str).collect();
        check_issues(&plan, &lines, &expectations(&plan));
        let mut sorted = issues.clone();
        sorted.sort_by_key(|i| (i.line, i.column));
        assert_eq!(
            issues,
            sorted,
            "{}: issues must come sorted by line",
            plan.display()
        );
    }
}

#[test]
fn a_plan_over_one_mebibyte_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("huge.yaml");
    let mut text = String::from("version: 1\nproject: shop\nstage: production\nmigrations:\n");
    let mut i = 0;
    while text.len() < 2 * 1024 * 1024 {
        text.push_str(&format!("  - {{source: svc{i}, target: new{i}}}\n"));
        i += 1;
    }
    std::fs::write(&plan, &text).unwrap();
    let out = validate(&[&plan]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    let expected = format!(
        "{}: plan is {} bytes; the limit is 1 MiB",
        plan.display(),
        text.len()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_binary_accepts_every_example() {
    let plans = example_plans();
    assert!(plans.len() >= 3, "{plans:?}");
    for plan in &plans {
        let out = validate(&[plan]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}\n{stderr}", plan.display());
        assert!(
            stdout.contains(&format!("{}: valid (", plan.display())),
            "{stdout}"
        );
    }
}

/// The README's `plan:validate plans/*.yaml`, typed in the repository as a user would (the
/// shell expands the glob): every file it names is a plan, and each is valid.
#[test]
fn validating_plans_star_yaml_in_the_repository_passes() {
    let out = Command::new("bash")
        .args(["-c", &format!("exec '{BIN}' plan:validate plans/*.yaml")])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(repo())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("plans/demo.yaml: valid ("), "{stdout}");
    assert_eq!(stderr, "");
}

/// A sandbox seed given where a plan belongs is named for what it is, in one issue, instead of
/// an unknown key per line of the world it describes.
#[test]
fn a_sandbox_seed_is_named_a_seed_not_a_broken_plan() {
    let seed = repo().join("plans/sandbox/demo-world.yaml");
    let out = validate(&[&seed]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    let issues: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with(&format!("{}:", seed.display())))
        .collect();
    assert_eq!(issues.len(), 1, "{stderr}");
    assert!(
        issues[0].contains("this is a sandbox seed") && issues[0].contains("not a plan"),
        "{stderr}"
    );
    assert!(!stderr.contains("unknown key"), "{stderr}");
}

#[test]
fn every_example_loads() {
    for plan in example_plans() {
        let loaded = load_plan(&plan).unwrap_or_else(|issues| {
            let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
            panic!("{}:\n{}", plan.display(), text.join("\n"))
        });
        assert!(!loaded.migrations.is_empty());
    }
}

/// Every prefix of a valid plan, and a few hundred seeded random mutations of it: load_plan
/// answers each with a plan or issues, never a panic.
#[test]
fn truncated_and_mutated_plans_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = repo().join("tests/plans/broken/fixtures");
    let valid = format!(
        "version: 1\nproject: shop\nstage: production\ndefaults:\n  backup: latest\n  wait_timeout: 2h\n\
         migrations:\n  - source: database\n    target: database13\n    type: postgresql13\n\
         \x20   plan: db.t3.micro\n    options: {{min_storage: \"50\", extensions: ~}}\n\
         \x20   relink:\n      - {{app: web, env_key: DATABASE_URL}}\n\
         \x20 - target: uploads2\n    type: volume\n    backup: file:{}\n    relink: [{{app: web, path: /uploads, read_only: true}}]\n",
        fixtures.join("uploads.tar.gz").display()
    );
    let path = dir.path().join("plan.yaml");
    std::fs::write(&path, &valid).unwrap();
    assert!(load_plan(&path).is_ok(), "the base plan must be valid");

    let bytes = valid.as_bytes();
    for end in 0..bytes.len() {
        std::fs::write(&path, &bytes[..end]).unwrap();
        let _ = load_plan(&path);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x005e_7095);
    let alphabet = b" \t\n:-[]{}&*!|>'\"#%@`,?~0123456789abcdefz\xff\xc3";
    for _ in 0..400 {
        let mut mutated = bytes.to_vec();
        for _ in 0..rng.gen_range(1..=4) {
            let at = rng.gen_range(0..mutated.len());
            match rng.gen_range(0..3) {
                0 => mutated[at] = alphabet[rng.gen_range(0..alphabet.len())],
                1 => {
                    mutated.remove(at);
                }
                _ => mutated.insert(at, alphabet[rng.gen_range(0..alphabet.len())]),
            }
        }
        std::fs::write(&path, &mutated).unwrap();
        if let Err(issues) = load_plan(&path) {
            assert!(!issues.is_empty());
        }
    }
}
