"""Higher-level differentiation helpers: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``,
``vhp``."""
