namespace KvnDb.Protocol;

/// <summary>Why <see cref="FrameLoop.RunAsync{THandler}"/> returned.</summary>
public enum FrameLoopExit
{
    /// <summary>The peer closed the connection between frames.</summary>
    Completed,
    /// <summary>The peer closed the connection in the middle of a frame.</summary>
    Truncated,
    /// <summary>The handler returned <see cref="FrameAction.Stop"/>; the frames after it stay in the pipe.</summary>
    Stopped,
    /// <summary>A header claimed a body above the limit (<see cref="IFrameHandler.OnFrameTooLarge"/> was told); nothing of it was consumed.</summary>
    TooLarge,
    /// <summary>The pending read was cancelled (<see cref="System.IO.Pipelines.PipeReader.CancelPendingRead"/>).</summary>
    Canceled,
}
