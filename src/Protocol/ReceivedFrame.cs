namespace KvnDb.Protocol;

/// <summary>
/// A frame copied out of the pipe, for the rare read that must outlive the buffer (handshakes, test
/// and tool connections). Hot paths handle frames in place through <see cref="IFrameHandler"/>.
/// </summary>
public sealed record ReceivedFrame(FrameHeader Header, byte[] Body);
