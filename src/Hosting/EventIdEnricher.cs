using Serilog.Core;
using Serilog.Events;

namespace KvnDb.Hosting;

/// <summary>
/// Gives the file's lines the event id as a plain number (<c>EventNumber</c>), as the console shows it:
/// Microsoft.Extensions.Logging hands Serilog the id as a structure (<c>{ Id: 120, Name: "…" }</c>).
/// </summary>
internal sealed class EventIdEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        var number = 0;
        if (logEvent.Properties.TryGetValue("EventId", out var value) && value is StructureValue structure)
        {
            foreach (var property in structure.Properties)
            {
                if (property.Name == "Id" && property.Value is ScalarValue { Value: int id })
                    number = id;
            }
        }
        logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty("EventNumber", number));
    }
}
