"""``nn.Module``: the base class of every layer and model."""

import functools
import inspect
import itertools
import warnings
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from ... import _C
from ..._C import Tensor
from ...autograd.grad_mode import no_grad
from ...utils.hooks import BackwardHook, RemovableHandle
from ..parameter import Buffer, Parameter, is_lazy

__all__ = ["Module"]

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(s_, num_spaces):
    s = s_.split("\n")
    if len(s) == 1:
        return s_
    first = s.pop(0)
    s = [(num_spaces * " ") + line for line in s]
    return first + "\n" + "\n".join(s)


def _typename(obj):
    """The name torch's error messages give a value: ``torch.FloatTensor`` for a tensor, the
    qualified class name for anything else (builtins without their module)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"


class _WrappedHook:
    """A hook called with its module (held weakly) as first argument."""

    def __init__(self, hook, module=None):
        self.hook = hook
        functools.update_wrapper(self, hook)
        self.with_module = False
        if module is not None:
            self.module = weakref.ref(module)
            self.with_module = True

    def __call__(self, *args, **kwargs):
        if self.with_module:
            module = self.module()
            if module is None:
                raise RuntimeError("You are trying to call the hook of a dead Module!")
            return self.hook(module, *args, **kwargs)
        return self.hook(*args, **kwargs)

    def __getstate__(self):
        result = {"hook": self.hook, "with_module": self.with_module}
        if self.with_module:
            result["module"] = self.module()
        return result

    def __setstate__(self, state):
        self.hook = state["hook"]
        self.with_module = state["with_module"]
        if self.with_module:
            if state["module"] is None:
                raise RuntimeError("You are trying to revive the hook of a dead Module!")
            self.module = weakref.ref(state["module"])


def _parse_to(*args, **kwargs):
    """The ``(device, dtype, non_blocking, memory_format)`` of ``Module.to``'s call forms:
    ``to(device=None, dtype=None, non_blocking=False)``, ``to(dtype, non_blocking=False)``,
    ``to(tensor, non_blocking=False)``, ``to(memory_format=...)``."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    non_blocking = kwargs.pop("non_blocking", False)
    memory_format = kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    args = list(args)
    if args:
        first = args.pop(0)
        if isinstance(first, Tensor):
            device, dtype = first.device, first.dtype
        elif isinstance(first, _C.dtype):
            dtype = first
        else:
            if first is not None:
                device = first
            if args and (args[0] is None or isinstance(args[0], _C.dtype)):
                dtype = args.pop(0)
        if args:
            non_blocking = args.pop(0)
        if args or not isinstance(non_blocking, bool):
            got = ", ".join(type(a).__name__ for a in (first, *args))
            raise TypeError(f"to() received an invalid combination of arguments - got ({got})")
    if device is not None:
        device = _C.device(f"cuda:{device}" if isinstance(device, int) else device)
    return device, dtype, non_blocking, memory_format


def _forward_unimplemented(self, *input):
    r"""Defines the computation performed at every call.

    Should be overridden by all subclasses. Call the module instance rather than this method:
    the instance call runs the registered hooks.
    """
    raise NotImplementedError(
        f'Module [{type(self).__name__}] is missing the required "forward" function')


class Module:
    r"""Base class for all neural network modules.

    Your models should also subclass this class. Modules can contain other modules, assigned
    as regular attributes, which makes them a tree; parameters (``nn.Parameter``), buffers and
    submodules assigned as attributes are registered, so that ``parameters()``,
    ``state_dict()``, ``to()`` and friends see them::

        import ferrotorch.nn as nn
        import ferrotorch.nn.functional as F

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 20, 5)
                self.conv2 = nn.Conv2d(20, 20, 5)

            def forward(self, x):
                x = F.relu(self.conv1(x))
                return F.relu(self.conv2(x))

    An ``__init__()`` call to the parent class must be made before assignment on the child.

    :ivar training: whether this module is in training or evaluation mode.
    """

    dump_patches = False

    _version = 1
    r"""Saved in ``state_dict()._metadata``; a module whose stored state changes bumps it and
    reads it back in ``_load_from_state_dict`` (``local_metadata.get("version")``)."""

    call_super_init = False

    def __init__(self, *args, **kwargs):
        if self.call_super_init is False and bool(kwargs):
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{next(iter(kwargs))}'")
        if self.call_super_init is False and bool(args):
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        # object.__setattr__ skips Module.__setattr__'s registration logic for the internals.
        setattr_ = super().__setattr__
        setattr_("training", True)
        setattr_("_parameters", OrderedDict())
        setattr_("_buffers", OrderedDict())
        setattr_("_non_persistent_buffers_set", set())
        setattr_("_backward_pre_hooks", OrderedDict())
        setattr_("_backward_hooks", OrderedDict())
        setattr_("_is_full_backward_hook", None)
        setattr_("_forward_hooks", OrderedDict())
        setattr_("_forward_hooks_with_kwargs", OrderedDict())
        setattr_("_forward_hooks_always_called", OrderedDict())
        setattr_("_forward_pre_hooks", OrderedDict())
        setattr_("_forward_pre_hooks_with_kwargs", OrderedDict())
        setattr_("_state_dict_hooks", OrderedDict())
        setattr_("_state_dict_pre_hooks", OrderedDict())
        setattr_("_load_state_dict_pre_hooks", OrderedDict())
        setattr_("_load_state_dict_post_hooks", OrderedDict())
        setattr_("_modules", OrderedDict())
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    forward = _forward_unimplemented

    # ----------------------------------------------------------------------------------------
    # Registration
    # ----------------------------------------------------------------------------------------

    def register_buffer(self, name, tensor, persistent=True):
        r"""Adds a buffer to the module.

        Buffers are state that is not a parameter, e.g. BatchNorm's ``running_mean``. A
        persistent buffer is part of ``state_dict()``; a non-persistent one is not.

        Args:
            name (str): name of the buffer; the buffer is the attribute of that name.
            tensor (Tensor or None): buffer to be registered. ``None`` makes operations on
                buffers (such as ``cuda``) skip it, and leaves it out of ``state_dict``.
            persistent (bool): whether the buffer is part of this module's ``state_dict``.

        Example::

            >>> self.register_buffer('running_mean', torch.zeros(num_features))
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        elif not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {_typename(name)}")
        elif "." in name:
            raise KeyError('buffer name can\'t contain "."')
        elif name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        elif hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        elif tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        r"""Adds a parameter to the module; it is the attribute of the given name.

        Args:
            name (str): name of the parameter.
            param (Parameter or None): parameter to be added. ``None`` makes operations on
                parameters (such as ``cuda``) skip it, and leaves it out of ``state_dict``.
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        elif not isinstance(name, str):
            raise TypeError(f"parameter name should be a string. Got {_typename(name)}")
        elif "." in name:
            raise KeyError('parameter name can\'t contain "."')
        elif name == "":
            raise KeyError('parameter name can\'t be empty string ""')
        elif hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")

        if param is None:
            self._parameters[name] = None
        elif not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        elif param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                "compute the value in the forward() method.")
        else:
            self._parameters[name] = param

    def add_module(self, name, module):
        r"""Adds a child module; it is the attribute of the given name.

        Args:
            name (str): name of the child module.
            module (Module): child module to be added to the module.
        """
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        elif not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        elif hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        elif "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        elif name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    def register_module(self, name, module):
        r"""Alias for :func:`add_module`."""
        self.add_module(name, module)

    def get_submodule(self, target):
        r"""Returns the submodule given by the dotted path ``target`` (``""`` is ``self``).

        Raises:
            AttributeError: if a step of the path does not exist or is not an ``nn.Module``.
        """
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def get_parameter(self, target):
        r"""Returns the parameter given by the dotted path ``target``.

        Raises:
            AttributeError: if the path is invalid or does not name an ``nn.Parameter``.
        """
        module_path, _, param_name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, param_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + param_name + "`")
        param = getattr(mod, param_name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + param_name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target):
        r"""Returns the buffer given by the dotted path ``target``.

        Raises:
            AttributeError: if the path is invalid or does not name a buffer.
        """
        module_path, _, buffer_name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, buffer_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + buffer_name + "`")
        buffer = getattr(mod, buffer_name)
        if buffer_name not in mod._buffers:
            raise AttributeError("`" + buffer_name + "` is not a buffer")
        return buffer

    def get_extra_state(self):
        r"""Returns extra (non-tensor) state to include in the module's ``state_dict``.

        Implement this and :func:`set_extra_state` in a module that has such state.
        """
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
            "to report this bug.")

    def set_extra_state(self, state):
        r"""Restores the extra state returned by :func:`get_extra_state` when loading a
        ``state_dict``."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
            "to report this bug.")

    # ----------------------------------------------------------------------------------------
    # Conversion
    # ----------------------------------------------------------------------------------------

    def _apply(self, fn, recurse=True):
        if recurse:
            for module in self.children():
                module._apply(fn)
        for param in self._parameters.values():
            if param is None:
                continue
            # Parameters are graph leaves: convert without recording, and swap the data in
            # place so that the Parameter objects (held by optimizers) keep their identity.
            with no_grad():
                param_applied = fn(param)
            param_grad = param.grad
            if param_applied is not param:
                param.data = param_applied
            if param_grad is not None:
                with no_grad():
                    grad_applied = fn(param_grad)
                param.grad = grad_applied.requires_grad_(param_grad.requires_grad)
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def apply(self, fn):
        r"""Applies ``fn`` recursively to every submodule (as returned by ``.children()``) and
        then to ``self``; typically used to initialise parameters.

        Args:
            fn (:class:`Module` -> None): function to be applied to each submodule

        Returns:
            Module: self

        Example::

            >>> @torch.no_grad()
            >>> def init_weights(m):
            >>>     if type(m) == nn.Linear:
            >>>         m.weight.fill_(1.0)
            >>> net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
            >>> net.apply(init_weights)
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def cuda(self, device=None):
        r"""Moves all parameters and buffers to the GPU (in place; returns self).

        Args:
            device (int, optional): if specified, all parameters will be copied to that device
        """
        return self._apply(lambda t: t.cuda(device))

    def cpu(self):
        r"""Moves all parameters and buffers to the CPU (in place; returns self)."""
        return self._apply(lambda t: t.cpu())

    def type(self, dst_type):
        r"""Casts all parameters and buffers to ``dst_type`` (in place; returns self).

        Args:
            dst_type (type or string): the desired type
        """
        return self._apply(lambda t: t.type(dst_type))

    def float(self):
        r"""Casts all floating point parameters and buffers to ``float`` (in place)."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self):
        r"""Casts all floating point parameters and buffers to ``double`` (in place)."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self):
        r"""Casts all floating point parameters and buffers to ``half`` (in place)."""
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self):
        r"""Casts all floating point parameters and buffers to ``bfloat16`` (in place)."""
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    def to_empty(self, *, device, recurse=True):
        r"""Moves the parameters and buffers to ``device`` without copying their values.

        Args:
            device (:class:`torch.device`): the desired device.
            recurse (bool): whether submodules are moved too.
        """
        return self._apply(lambda t: _C.empty_like(t, device=device), recurse=recurse)

    def to(self, *args, **kwargs):
        r"""Moves and/or casts the parameters and buffers (in place; returns self).

        This can be called as

        .. function:: to(device=None, dtype=None, non_blocking=False)
        .. function:: to(dtype, non_blocking=False)
        .. function:: to(tensor, non_blocking=False)
        .. function:: to(memory_format=torch.channels_last)

        Only floating point ``dtype`` s are accepted, and only floating point parameters and
        buffers are cast; integral ones only move to ``device``.

        Args:
            device (:class:`torch.device`): the desired device of the parameters and buffers
            dtype (:class:`torch.dtype`): the desired floating point dtype
            tensor (torch.Tensor): a tensor whose dtype and device are the desired ones
            memory_format (:class:`torch.memory_format`): the desired memory format for 4D
                parameters and buffers (keyword only)

        Example::

            >>> linear.to(torch.double)
            Linear(in_features=2, out_features=2, bias=True)
            >>> linear.weight.dtype
            torch.float64
        """
        device, dtype, non_blocking, memory_format = _parse_to(*args, **kwargs)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={dtype}")

        def convert(t):
            target = dtype if t.is_floating_point() or t.is_complex() else None
            if memory_format is not None and t.dim() in (4, 5):
                return t.to(device=device, dtype=target, non_blocking=non_blocking,
                            memory_format=memory_format)
            return t.to(device=device, dtype=target, non_blocking=non_blocking)

        return self._apply(convert)

    def share_memory(self):
        r"""See :meth:`torch.Tensor.share_memory_`."""
        return self._apply(lambda t: t.share_memory_())

    # ----------------------------------------------------------------------------------------
    # Hooks and calling
    # ----------------------------------------------------------------------------------------

    def register_full_backward_pre_hook(self, hook, prepend=False):
        r"""Registers a backward pre-hook, called when the gradients with respect to the
        module's outputs are computed::

            hook(module, grad_output) -> tuple[Tensor] or None

        ``grad_output`` is a tuple (``None`` for non-tensor outputs); a returned tuple replaces
        it for the rest of the backward pass. The forward receives views of its tensor inputs
        and the caller views of its tensor outputs, through which the hooks are attached.

        Args:
            hook (Callable): the hook.
            prepend (bool): fire before (rather than after) the existing backward pre-hooks.

        Returns:
            :class:`torch.utils.hooks.RemovableHandle`: ``handle.remove()`` removes the hook.
        """
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        r"""Registers a backward hook, called when the gradients with respect to the module's
        inputs are computed::

            hook(module, grad_input, grad_output) -> tuple(Tensor) or None

        ``grad_input`` (one entry per positional argument of the call, ``None`` for
        non-tensors) and ``grad_output`` are tuples; a returned tuple replaces ``grad_input``
        for the rest of the backward pass.

        Args:
            hook (Callable): the hook.
            prepend (bool): fire before (rather than after) the existing backward hooks.

        Returns:
            :class:`torch.utils.hooks.RemovableHandle`: ``handle.remove()`` removes the hook.
        """
        self._is_full_backward_hook = True
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        r"""Registers a forward pre-hook, called before :func:`forward`::

            hook(module, args) -> None or modified input

        A returned value replaces the positional arguments (a non-tuple is wrapped in a
        tuple). With ``with_kwargs=True`` the hook also receives the keyword arguments and
        returns both::

            hook(module, args, kwargs) -> None or a tuple of modified input and kwargs

        Args:
            hook (Callable): the hook.
            prepend (bool): fire before (rather than after) the existing forward pre-hooks.
            with_kwargs (bool): pass the keyword arguments to the hook.

        Returns:
            :class:`torch.utils.hooks.RemovableHandle`: ``handle.remove()`` removes the hook.
        """
        handle = RemovableHandle(self._forward_pre_hooks,
                                 extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        r"""Registers a forward hook, called after :func:`forward` has computed an output::

            hook(module, args, output) -> None or modified output
            hook(module, args, kwargs, output) -> None or modified output  # with_kwargs=True

        A returned value replaces the output.

        Args:
            hook (Callable): the hook.
            prepend (bool): fire before (rather than after) the existing forward hooks.
            with_kwargs (bool): pass the keyword arguments of the call to the hook.
            always_call (bool): run the hook even when the forward raises (the exception is
                then raised again).

        Returns:
            :class:`torch.utils.hooks.RemovableHandle`: ``handle.remove()`` removes the hook.
        """
        handle = RemovableHandle(
            self._forward_hooks,
            extra_dict=[self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def _call_impl(self, *args, **kwargs):
        if not (self._backward_hooks or self._backward_pre_hooks or self._forward_hooks
                or self._forward_pre_hooks):
            return self.forward(*args, **kwargs)

        result = None
        called_always_called_hooks = set()

        def inner():
            nonlocal result, args, kwargs
            full_backward_hooks = list(self._backward_hooks.values())
            backward_pre_hooks = list(self._backward_pre_hooks.values())

            for hook_id, hook in list(self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    args_kwargs_result = hook(self, args, kwargs)
                    if args_kwargs_result is not None:
                        if isinstance(args_kwargs_result, tuple) and len(args_kwargs_result) == 2:
                            args, kwargs = args_kwargs_result
                        else:
                            raise RuntimeError("forward pre-hook must return None or a tuple of "
                                               f"(new_args, new_kwargs), but got "
                                               f"{args_kwargs_result}.")
                else:
                    args_result = hook(self, args)
                    if args_result is not None:
                        if not isinstance(args_result, tuple):
                            args_result = (args_result,)
                        args = args_result

            bw_hook = None
            if full_backward_hooks or backward_pre_hooks:
                bw_hook = BackwardHook(self, full_backward_hooks, backward_pre_hooks)
                args = bw_hook.setup_input_hook(args)

            result = self.forward(*args, **kwargs)
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called:
                    called_always_called_hooks.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs:
                    hook_result = hook(self, args, kwargs, result)
                else:
                    hook_result = hook(self, args, result)
                if hook_result is not None:
                    result = hook_result

            if bw_hook:
                if not isinstance(result, (Tensor, tuple)):
                    warnings.warn("For backward hooks to be called, module output should be a "
                                  "Tensor or a tuple of Tensors but received "
                                  f"{type(result)}", stacklevel=3)
                result = bw_hook.setup_output_hook(result)
            return result

        try:
            return inner()
        except Exception:
            # Forward hooks registered with always_call run even though the call failed; an
            # exception they raise is reported as a warning so the original one propagates.
            for hook_id, hook in self._forward_hooks.items():
                if (hook_id in self._forward_hooks_always_called
                        and hook_id not in called_always_called_hooks):
                    try:
                        if hook_id in self._forward_hooks_with_kwargs:
                            hook(self, args, kwargs, result)
                        else:
                            hook(self, args, result)
                    except Exception as e:
                        warnings.warn("module forward hook with ``always_call=True`` raised an "
                                      "exception that was silenced as another error was raised "
                                      f"in forward: {str(e)}", stacklevel=2)
            raise

    __call__ = _call_impl

    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)
        # States pickled by older versions lack the newer hook dictionaries.
        for name in ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
                     "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
                     "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
                     "_load_state_dict_post_hooks", "_backward_pre_hooks"):
            if name not in self.__dict__:
                super().__setattr__(name, OrderedDict())
        if "_non_persistent_buffers_set" not in self.__dict__:
            super().__setattr__("_non_persistent_buffers_set", set())
        if "_is_full_backward_hook" not in self.__dict__:
            super().__setattr__("_is_full_backward_hook", None)

    # ----------------------------------------------------------------------------------------
    # Attribute access
    # ----------------------------------------------------------------------------------------

    def __getattr__(self, name):
        # Only reached when normal lookup fails: look in the registries.
        d = self.__dict__
        if "_parameters" in d and name in d["_parameters"]:
            return d["_parameters"][name]
        if "_buffers" in d and name in d["_buffers"]:
            return d["_buffers"][name]
        if "_modules" in d and name in d["_modules"]:
            return d["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        def remove_from(*dicts_or_sets):
            for d in dicts_or_sets:
                if name in d:
                    if isinstance(d, dict):
                        del d[name]
                    else:
                        d.discard(name)

        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(self.__dict__, self._buffers, self._modules,
                        self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        else:
            modules = self.__dict__.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                remove_from(self.__dict__, self._parameters, self._buffers,
                            self._non_persistent_buffers_set)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{_typename(value)}' as child module "
                                    f"'{name}' (torch.nn.Module or None expected)")
                modules[name] = value
            else:
                buffers = self.__dict__.get("_buffers")
                if isinstance(value, Buffer) or (buffers is not None and name in buffers):
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                        "(torch.Tensor or None expected)")
                    if isinstance(value, Buffer):
                        persistent = value.persistent
                    else:
                        persistent = name not in self._non_persistent_buffers_set
                    self._register_buffer_compat(name, value, persistent)
                else:
                    super().__setattr__(name, value)

    def _register_buffer_compat(self, name, value, persistent):
        # Subclasses sometimes override register_buffer without the ``persistent`` argument;
        # pass it only where it is accepted.
        if type(self).register_buffer is Module.register_buffer:
            self.register_buffer(name, value, persistent)
        elif "persistent" in inspect.signature(self.register_buffer).parameters:
            self.register_buffer(name, value, persistent)
        else:
            if not persistent:
                raise RuntimeError("Registering a non-persistent buffer on a Module subclass "
                                   "that implements register_buffer() without the persistent "
                                   "argument is not allowed.")
            self.register_buffer(name, value)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            super().__delattr__(name)

    # ----------------------------------------------------------------------------------------
    # state_dict
    # ----------------------------------------------------------------------------------------

    def _register_state_dict_hook(self, hook):
        r"""Registers a hook called as ``hook(module, state_dict, prefix, local_metadata)``
        after this module's entries are in ``state_dict``; it may return a new dict."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("Cannot register the same function as the state dict post hook "
                               "that was previously registered via "
                               "register_state_dict_post_hook")
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook):
        r"""Registers a hook called as ``hook(module, state_dict, prefix, local_metadata)``
        after ``state_dict()`` has collected this module's state; it may modify the dict in
        place and must return None.

        Returns:
            :class:`torch.utils.hooks.RemovableHandle`: ``handle.remove()`` removes the hook.
        """
        hook._from_public_api = True
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_state_dict_pre_hook(self, hook):
        r"""Registers a hook called as ``hook(module, prefix, keep_vars)`` before
        ``state_dict()`` collects this module's state.

        Returns:
            :class:`torch.utils.hooks.RemovableHandle`: ``handle.remove()`` removes the hook.
        """
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        r"""Saves this module's own state (not its descendants') into ``destination``.

        Called on every submodule by :meth:`state_dict`; subclasses with state of their own
        shape override it.

        Args:
            destination (dict): a dict where state will be stored
            prefix (str): the prefix for parameters and buffers used in this module
            keep_vars (bool): store the tensors themselves instead of detached aliases
        """
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        extra_state_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if getattr(self.__class__, "get_extra_state", Module.get_extra_state) \
                is not Module.get_extra_state:
            destination[extra_state_key] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        r"""Returns an ``OrderedDict`` of the module's whole state: parameters and persistent
        buffers, keyed by their dotted names (``"0.weight"``, ``"bn.running_mean"``).
        Parameters and buffers set to ``None`` are left out.

        The tensors are detached aliases of the parameters and buffers (they share memory);
        ``keep_vars=True`` stores the tensors themselves.

        Args:
            destination (dict, optional): a dict to update and return instead of a new
                ``OrderedDict``.
            prefix (str, optional): a prefix added to every key. Default: ``''``.
            keep_vars (bool, optional): do not detach the tensors. Default: ``False``.

        Example::

            >>> module.state_dict().keys()
            ['bias', 'weight']
        """
        if len(args) > 0:
            warnings.warn(
                "Positional args are being deprecated, use kwargs instead. Refer to "
                "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict"
                " for details.", FutureWarning, stacklevel=2)
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]

        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()

        local_metadata = dict(version=self._version)
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata

        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            hook_result = hook(self, destination, prefix, local_metadata)
            if not getattr(hook, "_from_public_api", False):
                if hook_result is not None:
                    destination = hook_result
            elif hook_result is not None:
                raise RuntimeError("state_dict post-hook must return None")
        return destination

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        r"""Registers a hook called with ``_load_from_state_dict``'s arguments (``state_dict,
        prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs``) before
        this module loads; ``with_module=True`` passes the module first."""
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = _WrappedHook(
            hook, self if with_module else None)
        return handle

    def register_load_state_dict_pre_hook(self, hook):
        r"""Registers a hook run before this module loads its part of a ``state_dict``::

            hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs) -> None

        Returns:
            :class:`torch.utils.hooks.RemovableHandle`: ``handle.remove()`` removes the hook.
        """
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def register_load_state_dict_post_hook(self, hook):
        r"""Registers a hook run after ``load_state_dict`` has loaded this module::

            hook(module, incompatible_keys) -> None

        ``incompatible_keys`` (``missing_keys`` and ``unexpected_keys`` lists) may be modified
        in place; with ``strict=True`` the check sees the modified lists.

        Returns:
            :class:`torch.utils.hooks.RemovableHandle`: ``handle.remove()`` removes the hook.
        """
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        r"""Copies this module's own parameters and buffers (not its descendants') from
        ``state_dict``; called on every submodule by :meth:`load_state_dict`.

        Subclasses override it to convert older formats (``local_metadata.get("version")``)
        before calling this implementation; ``state_dict`` is a copy and may be modified.

        Args:
            state_dict (dict): a dict containing parameters and persistent buffers.
            prefix (str): the prefix for parameters and buffers used in this module
            local_metadata (dict): the metadata saved for this module.
            strict (bool): whether keys must match exactly.
            missing_keys (list of str): missing keys are appended here.
            unexpected_keys (list of str): unexpected keys are appended here.
            error_msgs (list of str): error messages are appended here, and reported together
                by :meth:`load_state_dict`.
        """
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)

        persistent_buffers = {k: v for k, v in self._buffers.items()
                              if k not in self._non_persistent_buffers_set}
        local_name_params = itertools.chain(self._parameters.items(), persistent_buffers.items())
        local_state = {k: v for k, v in local_name_params if v is not None}
        assign_to_params_buffers = local_metadata.get("assign_to_params_buffers", False)

        for name, param in local_state.items():
            key = prefix + name
            if key in state_dict:
                input_param = state_dict[key]
                if not isinstance(input_param, Tensor):
                    error_msgs.append(f'While copying the parameter named "{key}", expected '
                                      "torch.Tensor or Tensor-like object from checkpoint but "
                                      f"received {type(input_param)}")
                    continue
                # An uninitialized (lazy) parameter has no shape yet; its module's own hook
                # materialises it from the checkpoint.
                is_param_lazy = is_lazy(param)
                # Checkpoints from torch 0.3 stored scalars as 1-element 1-d tensors.
                if not is_param_lazy and len(param.shape) == 0 and len(input_param.shape) == 1:
                    input_param = input_param[0]
                if not is_param_lazy and input_param.shape != param.shape:
                    error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                      f"{input_param.shape} from checkpoint, the shape in "
                                      f"current model is {param.shape}.")
                    continue
                try:
                    with no_grad():
                        if assign_to_params_buffers:
                            if isinstance(param, Parameter):
                                if not isinstance(input_param, Parameter):
                                    input_param = Parameter(input_param,
                                                            requires_grad=param.requires_grad)
                                else:
                                    input_param.requires_grad_(param.requires_grad)
                            setattr(self, name, input_param)
                        else:
                            param.copy_(input_param)
                except Exception as ex:
                    error_msgs.append(f'While copying the parameter named "{key}", whose '
                                      f"dimensions in the model are {param.size()} and whose "
                                      f"dimensions in the checkpoint are {input_param.size()}, "
                                      f"an exception occurred : {ex.args}.")
            elif strict:
                missing_keys.append(key)

        extra_state_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if getattr(self.__class__, "set_extra_state", Module.set_extra_state) \
                is not Module.set_extra_state:
            if extra_state_key in state_dict:
                self.set_extra_state(state_dict[extra_state_key])
            elif strict:
                missing_keys.append(extra_state_key)
        elif strict and (extra_state_key in state_dict):
            unexpected_keys.append(extra_state_key)

        if strict:
            for key in state_dict.keys():
                if key.startswith(prefix) and key != extra_state_key:
                    input_name = key[len(prefix):].split(".", 1)
                    # A dotted name must belong to a submodule.
                    if len(input_name) > 1:
                        if input_name[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif input_name[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        r"""Copies parameters and buffers from ``state_dict`` into this module and its
        descendants.

        Args:
            state_dict (dict): a dict containing parameters and persistent buffers.
            strict (bool, optional): whether the keys of ``state_dict`` must exactly match the
                keys returned by this module's :meth:`state_dict`. Default: ``True``
            assign (bool, optional): with ``False`` the values are copied into the existing
                tensors (keeping their dtype and device); with ``True`` the tensors of the
                state dict become the module's parameters and buffers (parameters keep their
                ``requires_grad``). Default: ``False``

        Returns:
            ``NamedTuple`` with ``missing_keys`` and ``unexpected_keys`` fields (lists of str).

        Raises:
            RuntimeError: listing every mismatch, e.g. ``Error(s) in loading state_dict for
                Linear:\n\tsize mismatch for weight: ...``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")

        missing_keys = []
        unexpected_keys = []
        error_msgs = []

        # A copy, so that _load_from_state_dict may modify it.
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module, local_state_dict, prefix=""):
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True,
                                         missing_keys, unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state_dict = {k: v for k, v in local_state_dict.items()
                                        if k.startswith(child_prefix)}
                    load(child, child_state_dict, child_prefix)  # noqa: F821
            # The hooks may modify missing_keys and unexpected_keys in place.
            incompatible_keys = _IncompatibleKeys(missing_keys, unexpected_keys)
            for hook in module._load_state_dict_post_hooks.values():
                out = hook(module, incompatible_keys)
                assert out is None, (
                    "Hooks registered with ``register_load_state_dict_post_hook`` are not"
                    "expected to return new values, if incompatible_keys need to be modified,"
                    "it should be done inplace.")

        load(self, state_dict)
        # The closure refers to itself; deleting the name breaks that reference cycle.
        del load

        if strict:
            if len(unexpected_keys) > 0:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected_keys)))
            if len(missing_keys) > 0:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing_keys)))

        if len(error_msgs) > 0:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self.__class__.__name__, "\n\t".join(error_msgs)))
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # ----------------------------------------------------------------------------------------
    # Traversal
    # ----------------------------------------------------------------------------------------

    def _named_members(self, get_members_fn, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for k, v in get_members_fn(module):
                # Tensors hash by identity, so the memo holds each tensor object once.
                if v is None or v in memo:
                    continue
                if remove_duplicate:
                    memo.add(v)
                name = module_prefix + ("." if module_prefix else "") + k
                yield name, v

    def parameters(self, recurse=True):
        r"""Returns an iterator over module parameters (each shared parameter once).

        Args:
            recurse (bool): if True, yields the parameters of this module and all submodules;
                otherwise only the direct members of this module.

        Yields:
            Parameter: module parameter
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        r"""Returns an iterator over module parameters, yielding ``(name, parameter)``.

        Args:
            prefix (str): prefix to prepend to all parameter names.
            recurse (bool): if True, includes the parameters of all submodules.
            remove_duplicate (bool): whether to yield a shared parameter only once.

        Yields:
            (str, Parameter): Tuple containing the name and parameter
        """
        yield from self._named_members(lambda module: module._parameters.items(), prefix=prefix,
                                       recurse=recurse, remove_duplicate=remove_duplicate)

    def buffers(self, recurse=True):
        r"""Returns an iterator over module buffers.

        Args:
            recurse (bool): if True, includes the buffers of all submodules.

        Yields:
            torch.Tensor: module buffer
        """
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        r"""Returns an iterator over module buffers, yielding ``(name, buffer)``.

        Args:
            prefix (str): prefix to prepend to all buffer names.
            recurse (bool): if True, includes the buffers of all submodules.
            remove_duplicate (bool): whether to yield a shared buffer only once.

        Yields:
            (str, torch.Tensor): Tuple containing the name and buffer
        """
        yield from self._named_members(lambda module: module._buffers.items(), prefix=prefix,
                                       recurse=recurse, remove_duplicate=remove_duplicate)

    def children(self):
        r"""Returns an iterator over immediate children modules.

        Yields:
            Module: a child module
        """
        for _, module in self.named_children():
            yield module

    def named_children(self):
        r"""Returns an iterator over immediate children modules, yielding ``(name, module)``.

        Yields:
            (str, Module): Tuple containing a name and child module
        """
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def modules(self):
        r"""Returns an iterator over all modules in the network, ``self`` first; a module that
        appears several times is returned once.

        Yields:
            Module: a module in the network
        """
        for _, module in self.named_modules():
            yield module

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        r"""Returns an iterator over all modules in the network, yielding ``(name, module)``
        (``self`` has the name ``prefix``).

        Args:
            memo: a set of modules already yielded (they are skipped)
            prefix: a prefix that will be added to the name of the module
            remove_duplicate: whether to yield a module that appears several times only once

        Yields:
            (str, Module): Tuple of name and module
        """
        if memo is None:
            memo = set()
        if self not in memo:
            if remove_duplicate:
                memo.add(self)
            yield prefix, self
            for name, module in self._modules.items():
                if module is None:
                    continue
                submodule_prefix = prefix + ("." if prefix else "") + name
                yield from module.named_modules(memo, submodule_prefix, remove_duplicate)

    # ----------------------------------------------------------------------------------------
    # Modes and gradients
    # ----------------------------------------------------------------------------------------

    def train(self, mode=True):
        r"""Sets the module and its descendants in training mode (``mode=True``) or evaluation
        mode (``False``); this matters to modules such as :class:`Dropout` and
        :class:`BatchNorm`.

        Returns:
            Module: self
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        r"""Sets the module in evaluation mode; the same as ``self.train(False)``.

        Returns:
            Module: self
        """
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        r"""Sets ``requires_grad`` of every parameter in place (e.g. to freeze part of a model).

        Returns:
            Module: self
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        r"""Resets the gradients of all parameters.

        Args:
            set_to_none (bool): set the grads to ``None`` instead of filling them with zeros.
        """
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    grad = p.grad
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad.zero_()

    # ----------------------------------------------------------------------------------------
    # Printing
    # ----------------------------------------------------------------------------------------

    def _get_name(self):
        return self.__class__.__name__

    def extra_repr(self):
        r"""The module-specific part of the printed representation (one or several lines);
        re-implement it in your own modules."""
        return ""

    def __repr__(self):
        # The extra repr is printed like the submodules, one item per line.
        extra_lines = []
        extra_repr = self.extra_repr()
        if extra_repr:
            extra_lines = extra_repr.split("\n")
        child_lines = []
        for key, module in self._modules.items():
            mod_str = _addindent(repr(module), 2)
            child_lines.append("(" + key + "): " + mod_str)
        lines = extra_lines + child_lines

        main_str = self._get_name() + "("
        if lines:
            # A single line of extra repr stays on the first line.
            if len(extra_lines) == 1 and not child_lines:
                main_str += extra_lines[0]
            else:
                main_str += "\n  " + "\n  ".join(lines) + "\n"
        main_str += ")"
        return main_str

    def __dir__(self):
        module_attrs = dir(self.__class__)
        attrs = list(self.__dict__.keys())
        parameters = list(self._parameters.keys())
        modules = list(self._modules.keys())
        buffers = list(self._buffers.keys())
        keys = module_attrs + attrs + parameters + modules + buffers
        # Drop names that are not legal Python identifiers (container indices).
        keys = [key for key in keys if not key[0].isdigit()]
        return sorted(keys)
