"""Quick fixes in the window: the Problems view and the canvas menus (layer and connection) offer
every fix the analysis attached to a shape error; each is one undo step that leaves a valid
design; the offending connection is drawn in the error colour; Run waits for a valid design."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from graph import Sketch, project
from graph.layout import apply_layout
from tests.backend import test_fixes
from tests.backend.test_fixes import CASES


def _bad(build):
    """A backend case, laid out (its sketch stacks some layers on one spot)."""
    doc = test_fixes._bad(build)
    doc.apply(apply_layout(doc, "LR"))
    return doc


def _analyse(window):
    window.analysis.start()
    return window.analysis.run_now()


def _fix_actions(menu):
    """The actions of a canvas menu's "Quick fixes" section."""
    actions, inside = [], False
    for action in menu.actions():
        if action.isSeparator():
            if inside and not action.text():
                break
            inside = action.text() == "Quick fixes"
            continue
        if inside:
            actions.append(action)
    return actions


def _all_fixes():
    """(case, index of the fix) for every fix the analysis offers in the backend's cases."""
    from backend.model.shapes import analyse

    out = []
    for name, (build, _kind, _type) in CASES.items():
        (error,) = [e for e in analyse(_bad(build)).errors if getattr(e, "fixes", ())]
        out += [(name, i) for i in range(len(error.fixes))]
    return out


@pytest.fixture(scope="module")
def every_fix():
    return _all_fixes()


def test_every_fix_is_offered_and_is_one_undo_step_to_a_valid_design(window, every_fix):
    kinds = set()
    for name, index in every_fix:
        doc = _bad(CASES[name][0])
        window.controller.set_document(doc)
        before = project.dumps(doc)
        report = _analyse(window)
        (problem,) = [p for p in report.problems if p.fixes]
        fix = problem.fixes[index]
        kinds.add(fix.kind)
        # offending connections are drawn in the error colour, the others are not
        assert problem.edges and all(window.scene.edges[e].error for e in problem.edges)
        assert not any(item.error for e, item in window.scene.edges.items()
                       if e not in problem.edges)
        # the Problems view lists every fix under its problem
        rows = window.problems.fix_rows()
        assert [r.data(Qt.ItemDataRole.UserRole + 3) for r in rows] == list(problem.fixes)
        # and the layer's menu offers the same ones
        node = problem.node_ids[0]
        target = window.scene.menus.target_at(window.scene.nodes[node].sceneBoundingRect()
                                               .center())
        assert target.node_id == node
        menu = window.scene.menus.menu_for(target)
        assert [a.text() for a in _fix_actions(menu)] == [f.label for f in problem.fixes]
        menu.deleteLater()
        count = window.controller.stack.count()
        if index % 2 == 0:  # half through the Problems view, half through the canvas menu
            row = rows[index]
            QTest.mouseClick(window.problems.viewport(), Qt.MouseButton.LeftButton,
                             Qt.KeyboardModifier.NoModifier,
                             window.problems.visualItemRect(row).center())
        else:
            menu = window.scene.menus.menu_for(target)
            _fix_actions(menu)[index].trigger()
            menu.deleteLater()
        assert window.controller.stack.count() == count + 1, (name, fix.label)
        after = _analyse(window)
        assert not after.problems, (name, fix.label, [p.message for p in after.problems])
        assert not window.scene.edges or not any(i.error for i in window.scene.edges.values())
        window.controller.stack.undo()
        assert project.dumps(window.controller.doc) == before, (name, fix.label)
    assert kinds == {"insert_before", "replace_type", "set_params"}


def test_a_connection_menu_offers_the_fixes_of_the_layer_it_feeds(window):
    window.controller.set_document(_bad(CASES["flatten before dense"][0]))
    report = _analyse(window)
    (problem,) = report.problems
    (edge,) = problem.edges
    item = window.scene.edges[edge]
    target = window.scene.menus.target_at(item.path().pointAtPercent(0.5))
    assert target.kind == "edge" and target.edge == edge
    menu = window.scene.menus.menu_for(target)
    (action,) = _fix_actions(menu)
    assert "Flatten" in action.text()
    action.trigger()
    menu.deleteLater()
    assert _analyse(window).problems == []


def test_run_is_disabled_with_the_reason_while_the_design_has_errors(window):
    panel = window.training
    window.controller.set_document(_bad(CASES["flatten before dense"][0]))
    report = _analyse(window)
    reason = report.run_blocker()
    assert "Dense 'dense'" in reason and "Flatten" in reason
    assert not window.act_run.isEnabled() and not panel.run_button.isEnabled()
    assert window.act_run.toolTip() == reason and panel.run_button.toolTip() == reason
    assert reason in panel.status.text()
    assert not window.run_training()  # Ctrl+R's slot refuses too
    window.apply_fix(report.problems[0].fixes[0])
    _analyse(window)
    assert window.act_run.isEnabled() and panel.run_button.isEnabled()
    assert "Ctrl+R" in window.act_run.toolTip() and panel.status.text() == "Ready to train."
    # an edit that breaks the design counts at once on Run, before the debounced analysis
    doc = window.controller.doc
    dense = next(n for n in doc.node_ids() if doc.attr(n, "type") == "Dense")
    window.controller.stack.undo()
    assert window.analysis.pending()
    assert not panel.start_run() and "Cannot train" in panel.status.text()
    assert not window.act_run.isEnabled() and dense in window.controller.doc


def test_an_empty_design_cannot_run_and_says_why(window):
    window.controller.set_document(Sketch("Empty").doc)
    _analyse(window)
    assert not window.act_run.isEnabled()
    assert "no Input layer" in window.act_run.toolTip()
