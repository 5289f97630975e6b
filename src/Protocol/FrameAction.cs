namespace KvnDb.Protocol;

/// <summary>What <see cref="FrameLoop"/> does after <see cref="IFrameHandler.OnFrame"/>.</summary>
public enum FrameAction
{
    /// <summary>The frame was handled: go on with the next one.</summary>
    Continue,
    /// <summary>
    /// Back-pressure: the frame was <b>not</b> handled. The loop ends the batch, consumes only the
    /// frames before it, awaits <see cref="IFrameHandler.OnPausedAsync"/>, and resumes with this frame.
    /// </summary>
    Pause,
    /// <summary>The frame was handled and the loop ends (a protocol violation, or a one-frame read such as a hello).</summary>
    Stop,
    /// <summary>
    /// The frame was <b>not</b> handled: it needs <see cref="IFrameHandler.OnFrameAsync"/> (a reply that
    /// streams). The loop ends the batch first, so earlier replies go out before it.
    /// </summary>
    HandleAsync,
}
