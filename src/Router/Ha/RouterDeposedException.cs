namespace KvnDb.Router.Ha;

/// <summary>A metadata change could not be committed: this router is no longer the group's leader (it steps down).</summary>
internal sealed class RouterDeposedException(string message, Exception? inner = null) : InvalidOperationException(message, inner);
