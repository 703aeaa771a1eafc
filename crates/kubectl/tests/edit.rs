//! `kubectl edit` with scripted editors: what reaches the server, and upstream's
//! messages when a save is refused, emptied or unchanged.

use kubecraft_cluster::cluster;
use kubecraft_kubectl::commands::edit::{EditedFile, EditorHooks};
use kubecraft_kubectl::Kubectl;

const KEPT: &str = "/tmp/kubectl-edit-test.yaml";

fn kubectl_with(launch: fn(&str, &str) -> Result<EditedFile, String>) -> Kubectl {
    Kubectl {
        editor: Some(EditorHooks {
            launch,
            remove: |_| {},
        }),
        ..Kubectl::default()
    }
}

fn run(kubectl: &mut Kubectl, world: &mut kubecraft_cluster::sim::World, line: &str) -> String {
    let args: Vec<String> = line.split_whitespace().map(String::from).collect();
    kubectl.run(world, &args, None).combined()
}

fn saved(text: String) -> Result<EditedFile, String> {
    Ok(EditedFile {
        path: KEPT.into(),
        text,
    })
}

#[test]
fn an_edit_is_patched_and_an_invalid_one_reopens_until_nothing_changes() {
    let mut world = cluster::start(1);
    let mut plain = Kubectl::default();
    run(
        &mut plain,
        &mut world,
        "create deployment web --image=nginx",
    );

    let mut scale = kubectl_with(|_, text| {
        assert!(text.starts_with("# Please edit the object below."));
        saved(text.replace("replicas: 1\n", "replicas: 4\n"))
    });
    assert_eq!(
        run(&mut scale, &mut world, "edit deploy web"),
        "deployment.apps/web edited\n"
    );
    assert_eq!(
        run(
            &mut plain,
            &mut world,
            "get deploy web -o jsonpath={.spec.replicas}"
        ),
        "4"
    );

    // The editor saves the same invalid change twice: the second time nothing changed.
    let mut invalid = kubectl_with(|_, text| {
        if text.contains("was not valid") {
            assert!(text.contains(
                "# * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n"
            ));
        }
        saved(text.replace("replicas: 4\n", "replicas: -1\n"))
    });
    assert_eq!(
        run(&mut invalid, &mut world, "edit deploy web"),
        format!("error: deployments.apps \"web\" is invalid\nA copy of your changes has been stored to {KEPT:?}\nerror: Edit cancelled, no valid changes were saved.\n")
    );

    let mut untouched = kubectl_with(|_, text| saved(text.to_string()));
    assert_eq!(
        run(&mut untouched, &mut world, "edit deployment/web -o json"),
        "Edit cancelled, no changes made.\n"
    );
    let mut emptied = kubectl_with(|_, _| saved(String::new()));
    assert_eq!(
        run(&mut emptied, &mut world, "edit deploy web"),
        format!("error: deployments.apps \"web\" is invalid\nA copy of your changes has been stored to {KEPT:?}\nerror: Edit cancelled, no valid changes were saved.\n")
    );
    let mut renamed = kubectl_with(|_, text| saved(text.replace("name: web\n", "name: other\n")));
    assert_eq!(
        run(&mut renamed, &mut world, "edit deploy web"),
        format!("A copy of your changes has been stored to {KEPT:?}\nerror: At least one of apiVersion, kind and name was changed\n")
    );
}

#[test]
fn without_an_editor_process_the_edit_waits_for_the_panes_saves() {
    let mut world = cluster::start(1);
    let mut pane = Kubectl::default();
    run(&mut pane, &mut world, "create deployment web --image=nginx");
    assert_eq!(run(&mut pane, &mut world, "edit deploy/web"), "");
    let opened = pane.pending_edit.as_ref().expect("waiting").text.clone();
    assert!(opened.starts_with("# Please edit the object below."));
    assert!(opened.contains("replicas: 1\n"));

    // A refused save reopens the pane with the reasons and the refused text.
    let refused = opened.replace("replicas: 1\n", "replicas: -1\n");
    assert_eq!(
        pane.save_edit(&mut world, refused).combined(),
        "error: deployments.apps \"web\" is invalid\n"
    );
    let reopened = pane.pending_edit.as_ref().expect("reopened").text.clone();
    assert!(reopened.contains("# deployments.apps \"web\" was not valid:\n# * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n"), "{reopened}");
    assert!(reopened.contains("replicas: -1\n"));

    let fixed = reopened.replace("replicas: -1\n", "replicas: 3\n");
    assert_eq!(
        pane.save_edit(&mut world, fixed).combined(),
        "deployment.apps/web edited\n"
    );
    assert!(pane.pending_edit.is_none());
    assert_eq!(
        run(
            &mut pane,
            &mut world,
            "get deploy web -o jsonpath={.spec.replicas}"
        ),
        "3"
    );
    let nothing = pane.save_edit(&mut world, String::new());
    assert_eq!(
        (nothing.combined(), nothing.exit_code),
        ("error: there is no edit in progress\n".to_string(), 1)
    );

    // The patch acts as the edit's --as user, who may read but not write.
    run(
        &mut pane,
        &mut world,
        "create rolebinding jane-view --clusterrole=view --user=jane",
    );
    run(&mut pane, &mut world, "edit deploy web --as jane");
    let text = pane.pending_edit.as_ref().expect("waiting").text.clone();
    assert_eq!(
        pane.save_edit(&mut world, text.replace("replicas: 3\n", "replicas: 5\n")).combined(),
        "error: deployments.apps \"web\" could not be patched: deployments.apps \"web\" is forbidden: User \"jane\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"default\"\nYou can run `kubectl replace -f /tmp/kubectl-edit.yaml` to try this update again.\n"
    );
}
