namespace KvnDb.Client;

/// <summary>
/// The limits the router announced in its hello reply, which the client adopts: it refuses locally a request body above
/// <see cref="MaxRequestBody"/> (the router would refuse it) and reads replies up to <see cref="MaxFrameSize"/>.
/// <see cref="MaxInFlight"/> and <see cref="OutputLimit"/> say where the router's back-pressure starts (it stops reading a
/// connection with that many requests in flight) and where it cuts a connection that leaves that much output unread;
/// null from a router that predates them.
/// </summary>
public sealed record RouterLimits(int MaxFrameSize, int MaxKeySize, int MaxRequestBody, int? MaxInFlight, long? OutputLimit);
