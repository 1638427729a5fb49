//! `deploy/kubernetes/indexed-job.yaml`: no cluster runs it here, so the test reads the
//! manifests as Kubernetes would (an Indexed Job whose pods mount a shared claim and a
//! ConfigMap, a merge Job on the same claim) and then runs each pod's command line with
//! the real binary: every volume a temp directory, `$(JOB_COMPLETION_INDEX)` expanded and
//! the variable set as the Job controller sets it, the ConfigMap's experiment replaced by
//! the small one of tests/slurm. The merge Job's output must be the unsharded output,
//! byte for byte. (`tests/slurm/job-array.sh` does the same for the Slurm example, on a
//! real Slurm cluster.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value;

use crate::support::{patchfleet, text};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn manifests() -> Vec<Value> {
    let path = repo("deploy/kubernetes/indexed-job.yaml");
    let source = std::fs::read_to_string(&path).unwrap();
    serde_norway::Deserializer::from_str(&source)
        .map(|document| Value::deserialize(document).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn field<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |v, key| v.get(key).unwrap_or_else(|| panic!("no `{key}` in `{path}`")))
}

fn string<'a>(value: &'a Value, path: &str) -> &'a str {
    field(value, path).as_str().unwrap_or_else(|| panic!("`{path}` is not a string"))
}

fn strings(value: &Value, path: &str) -> Vec<String> {
    let list = field(value, path).as_sequence().unwrap_or_else(|| panic!("`{path}` is not a list"));
    list.iter().map(|v| v.as_str().unwrap_or_else(|| panic!("`{path}` holds a non-string")).to_owned()).collect()
}

fn object<'a>(documents: &'a [Value], kind: &str, name: &str) -> &'a Value {
    documents
        .iter()
        .find(|d| string(d, "kind") == kind && string(d, "metadata.name") == name)
        .unwrap_or_else(|| panic!("no {kind} named {name}"))
}

/// The pod template's only container.
fn container(job: &Value) -> &Value {
    let containers = field(job, "spec.template.spec.containers").as_sequence().unwrap();
    assert_eq!(containers.len(), 1, "one container per pod");
    &containers[0]
}

/// Each of the container's mount paths, with where its volume's contents come from:
/// `claim:NAME` or `configMap:NAME`.
fn mounts(job: &Value) -> BTreeMap<String, String> {
    let volumes = field(job, "spec.template.spec.volumes").as_sequence().unwrap();
    let source = |name: &str| {
        let volume = volumes.iter().find(|v| string(v, "name") == name).unwrap_or_else(|| panic!("no volume {name}"));
        match (volume.get("persistentVolumeClaim"), volume.get("configMap")) {
            (Some(claim), None) => format!("claim:{}", string(claim, "claimName")),
            (None, Some(map)) => format!("configMap:{}", string(map, "name")),
            _ => panic!("volume {name} is neither a claim nor a ConfigMap"),
        }
    };
    let list = field(container(job), "volumeMounts").as_sequence().unwrap();
    list.iter().map(|m| (string(m, "mountPath").to_owned(), source(string(m, "name")))).collect()
}

/// The value following `flag` in `args`.
fn flag_value<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args.iter().position(|a| a == flag).unwrap_or_else(|| panic!("no {flag} in {args:?}"));
    args.get(at + 1).unwrap_or_else(|| panic!("{flag} without a value"))
}

/// `arg` with each mount path replaced by the local directory of its volume.
fn localize(arg: &str, mounts: &BTreeMap<String, String>, volumes: &BTreeMap<String, PathBuf>) -> String {
    mounts
        .iter()
        .find_map(|(path, source)| {
            let rest = arg.strip_prefix(path.as_str())?.strip_prefix('/')?;
            Some(volumes[source].join(rest).to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| arg.to_owned())
}

/// Runs a container's command line locally; `index` is the pod's completion index.
fn run_pod(job: &Value, volumes: &BTreeMap<String, PathBuf>, index: Option<u64>) {
    let container = container(job);
    assert_eq!(strings(container, "command"), ["patchfleet"]);
    let mounts = mounts(job);
    let mut command = patchfleet();
    for arg in strings(container, "args") {
        let arg = match index {
            Some(k) => arg.replace("$(JOB_COMPLETION_INDEX)", &k.to_string()),
            None => arg,
        };
        command.arg(localize(&arg, &mounts, volumes));
    }
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SLURM_")) {
        command.env_remove(name);
    }
    match index {
        Some(k) => command.env("JOB_COMPLETION_INDEX", k.to_string()),
        None => command.env_remove("JOB_COMPLETION_INDEX"),
    };
    let out = command.output().unwrap();
    let pod = string(job, "metadata.name");
    assert!(out.status.success(), "pod {pod} {index:?}: {:?}\n{}", out.status, text(&out.stderr));
}

/// Every file under `dir`, by path relative to it.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn the_kubernetes_example_is_an_indexed_job_on_a_shared_claim_with_a_merge_of_every_index() {
    let documents = manifests();
    let claim = object(&documents, "PersistentVolumeClaim", "patchfleet-shards");
    assert_eq!(strings(claim, "spec.accessModes"), ["ReadWriteMany"], "every pod writes to the claim at once");
    let shards = object(&documents, "Job", "patchfleet-experiment");
    assert_eq!(string(shards, "spec.completionMode"), "Indexed");
    let completions = field(shards, "spec.completions").as_u64().unwrap();
    assert!(field(shards, "spec.parallelism").as_u64().unwrap() <= completions);
    assert_eq!(string(shards, "spec.template.spec.restartPolicy"), "Never");
    let args = strings(container(shards), "args");
    assert_eq!(flag_value(&args, "--shard-count"), completions.to_string(), "one pod per shard");
    let out = flag_value(&args, "--out");
    assert!(out.contains("$(JOB_COMPLETION_INDEX)"), "each pod writes its own shard directory: {out}");
    let env = field(container(shards), "env").as_sequence().unwrap();
    let index = env.iter().find(|e| string(e, "name") == "JOB_COMPLETION_INDEX").expect("declared");
    assert_eq!(
        string(index, "valueFrom.fieldRef.fieldPath"),
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    );
    let claim_source = "claim:patchfleet-shards".to_owned();
    assert!(mounts(shards).iter().any(|(path, source)| *source == claim_source && out.starts_with(path.as_str())));

    let merge = object(&documents, "Job", "patchfleet-experiment-merge");
    let merge_args = strings(container(merge), "args");
    assert_eq!(merge_args[..3], ["experiment", "merge", "--out"]);
    let every_index: Vec<String> =
        (0..completions).map(|k| out.replace("$(JOB_COMPLETION_INDEX)", &k.to_string())).collect();
    assert_eq!(merge_args[4..], every_index[..], "the merge names every shard once");
    assert!(mounts(merge).values().any(|source| *source == claim_source));
}

#[test]
fn the_kubernetes_examples_pods_run_and_their_merge_is_the_unsharded_output() {
    let documents = manifests();
    let shards = object(&documents, "Job", "patchfleet-experiment");
    let merge = object(&documents, "Job", "patchfleet-experiment-merge");
    let temp = tempfile::tempdir().unwrap();
    let mut volumes = BTreeMap::new();
    for source in mounts(shards).into_values().chain(mounts(merge).into_values()) {
        let dir = temp.path().join(source.replace(':', "-"));
        std::fs::create_dir_all(&dir).unwrap();
        volumes.insert(source, dir);
    }
    // The ConfigMap holds the experiment file under the name the pods read.
    let args = strings(container(shards), "args");
    let (config_path, config_source) =
        mounts(shards).into_iter().find(|(_, source)| source.starts_with("configMap:")).expect("a ConfigMap");
    let file = Path::new(args[1].strip_prefix(&format!("{config_path}/")).expect("experiment in the ConfigMap"));
    let config = &volumes[&config_source];
    std::fs::copy(repo("tests/slurm/experiment.toml"), config.join(file)).unwrap();
    std::fs::copy(repo("tests/slurm/base.toml"), config.join("base.toml")).unwrap();

    let unsharded = temp.path().join("unsharded");
    let out = patchfleet()
        .args(["experiment", config.join(file).to_str().unwrap(), "--quiet", "--out", unsharded.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let completions = field(shards, "spec.completions").as_u64().unwrap();
    for k in (0..completions).rev() {
        run_pod(shards, &volumes, Some(k));
    }
    run_pod(merge, &volumes, None);
    let merge_args = strings(container(merge), "args");
    let result = PathBuf::from(localize(&merge_args[3], &mounts(merge), &volumes));
    let (expected, merged) = (tree(&unsharded), tree(&result));
    assert!(expected.contains_key(Path::new("runs.csv")));
    assert_eq!(merged.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (name, bytes) in &expected {
        assert!(
            merged[name] == *bytes,
            "{} differs:\n{}\nunsharded:\n{}",
            name.display(),
            text(&merged[name]),
            text(bytes)
        );
    }
}
