"""Typed query functions per subject: outcomes, certifications, CoC flows, theory of change, quality, members."""
