using System.Globalization;
using System.Text.Json;
using Postern.Server.Api;

namespace Postern.Server.Browsable;

/// <summary>
/// The write forms of a browsable page, derived from the route's field declarations, never written per resource (DRF's
/// get_rendered_html_form and get_raw_data_form): for POST and for PUT an HTML form, one input per writable field by its
/// <see cref="FormInputKind"/> with its label, required mark, help and a place for its errors, beside a raw-data form; DELETE
/// behind a confirmation dialog. A form is written only when <see cref="OptionsMetadata.MayWriteAsync"/> says the user may
/// send its method. The script (Assets/browsable.js) sends them with fetch and puts a 400's messages beside the inputs.
/// </summary>
public sealed class EditForms
{
    private const string BlankOption = "---------";

    private readonly ApiRequest _request;
    private readonly ApiRoute _route;
    private readonly string _action;
    private readonly string _here;
    private readonly JsonElement? _current;
    private readonly Dictionary<ApiResource, (IReadOnlyList<ObjectChoice> Choices, bool More)> _choices = [];

    /// <param name="action">Where the forms send: the route's own path, without a format that would make fetch get HTML.</param>
    /// <param name="here">The page, shown again after a PUT or PATCH.</param>
    /// <param name="current">The object as the page's GET answered it: what the PUT form starts with.</param>
    private EditForms(ApiRequest request, ApiRoute route, string action, string here, JsonElement? current)
    {
        _request = request;
        _route = route;
        _action = action;
        _here = here;
        _current = current is { ValueKind: JsonValueKind.Object } ? current : null;
    }

    public static Task WriteAsync(Html html, ApiRequest request, ApiRoute route, string action, string here, JsonElement? current) =>
        new EditForms(request, route, action, here, current).WriteAsync(html);

    private async Task WriteAsync(Html html)
    {
        var writable = _route.InputFields.Where(f => f.IsShownTo(_request) && !f.IsReadOnlyFor(_request)).ToList();
        if (await OptionsMetadata.MayWriteAsync(_request, _route, "POST"))
            await WriteSectionAsync(html, htmlForm: "POST", rawMethods: ["POST"], writable, next: null, values: null);
        var put = await OptionsMetadata.MayWriteAsync(_request, _route, "PUT");
        var patch = await OptionsMetadata.MayWriteAsync(_request, _route, "PATCH");
        // As DRF: the HTML form is for PUT only; the raw form sends either, the object's values to start from.
        if (put || patch)
        {
            string[] rawMethods = put && patch ? ["PUT", "PATCH"] : put ? ["PUT"] : ["PATCH"];
            await WriteSectionAsync(html, htmlForm: put ? "PUT" : null, rawMethods, writable, next: _here, values: _current);
        }
    }

    /// <summary>The DELETE button; it opens the dialog, which does the deleting.</summary>
    public static void WriteDeleteButton(Html html) =>
        html.Raw("<button type=\"button\" class=\"danger\" id=\"submit-DELETE\" aria-haspopup=\"dialog\" aria-controls=\"delete-dialog\">")
            .Raw("DELETE</button>");

    /// <summary>DRF's confirmation: "Are you sure you want to delete this User Instance?", Cancel first.</summary>
    public static void WriteDeleteDialog(Html html, ApiRoute route, string action, string next) =>
        html.Raw("<dialog id=\"delete-dialog\" aria-labelledby=\"delete-question\"><p id=\"delete-question\">")
            .Raw("Are you sure you want to delete this ").Text(route.Name).Raw("?</p>")
            .Raw("<form class=\"write\" data-method=\"DELETE\" action=\"").Text(action).Raw("\" data-next=\"").Text(next).Raw("\">")
            .Raw("<div class=\"form-errors\" role=\"alert\" hidden></div><div class=\"form-actions\">")
            .Raw("<button type=\"button\" id=\"cancel-DELETE\" autofocus>Cancel</button>")
            .Raw("<button type=\"submit\" class=\"danger\" id=\"confirm-DELETE\">Delete</button></div></form></dialog>");

    /// <summary>
    /// One method's forms: the HTML form and the raw-data form as two tabs, the HTML form first (DRF's default); a route that
    /// reads no fields (an action like revoke-others) gets a single button.
    /// </summary>
    private async Task WriteSectionAsync(Html html, string? htmlForm, string[] rawMethods, List<Field> fields, string? next,
        JsonElement? values)
    {
        var key = htmlForm ?? rawMethods[0];
        html.Raw("<section class=\"edit\" aria-labelledby=\"edit-").Raw(key).Raw("\"><h2 id=\"edit-").Raw(key).Raw("\">")
            .Raw(string.Join(" / ", rawMethods)).Raw("</h2>");
        if (fields.Count == 0)
        {
            html.Raw("<div class=\"well\">");
            WriteFormStart(html, "write", key, next);
            WriteButtons(html, rawMethods, "submit-");
            html.Raw("</form></div></section>");
            return;
        }
        if (htmlForm is not null)
        {
            html.Raw("<div class=\"tabs\" role=\"tablist\" aria-label=\"How to send ").Raw(key).Raw("\">");
            WriteTab(html, "form", key, "HTML form", selected: true);
            WriteTab(html, "raw", key, "Raw data", selected: false);
            html.Raw("</div>");
        }
        html.Raw("<div class=\"well\">");
        if (htmlForm is not null)
        {
            html.Raw("<div role=\"tabpanel\" id=\"panel-form-").Raw(key).Raw("\" aria-labelledby=\"tab-form-").Raw(key).Raw("\">");
            WriteFormStart(html, "write html-form", htmlForm, next, id: "form-" + htmlForm);
            foreach (var field in fields)
                await WriteFieldAsync(html, htmlForm, field, Value(values, field));
            WriteButtons(html, [htmlForm], "submit-form-");
            html.Raw("</form></div>");
            html.Raw("<div role=\"tabpanel\" id=\"panel-raw-").Raw(key).Raw("\" aria-labelledby=\"tab-raw-").Raw(key).Raw("\" hidden>");
        }
        WriteRawForm(html, key, rawMethods, fields, values, next);
        if (htmlForm is not null)
            html.Raw("</div>");
        html.Raw("</div></section>");
    }

    private static void WriteTab(Html html, string kind, string key, string label, bool selected) =>
        html.Raw("<button type=\"button\" role=\"tab\" id=\"tab-").Raw(kind).Raw("-").Raw(key).Raw("\" aria-controls=\"panel-")
            .Raw(kind).Raw("-").Raw(key).Raw("\" aria-selected=\"").Raw(selected ? "true" : "false").Raw("\"")
            .Raw(selected ? "" : " tabindex=\"-1\"").Raw(">").Raw(label).Raw("</button>");

    /// <summary>Every form has a place for errors that belong to no input (a 403, a parse error, non_field_errors).</summary>
    private void WriteFormStart(Html html, string classes, string method, string? next, string? id = null)
    {
        html.Raw("<form class=\"").Raw(classes).Raw("\" data-method=\"").Raw(method).Raw("\" action=\"").Text(_action).Raw("\"");
        if (id is not null)
            html.Raw(" id=\"").Raw(id).Raw("\"");
        if (next is not null)
            html.Raw(" data-next=\"").Text(next).Raw("\"");
        // An answer that shows something once (a new token's key) stays on the page rather than going to the new object.
        if (method == "POST" && _route.Kind == RouteKind.List && _route.Resource is { HasFieldsShownOnlyOnCreate: true })
            html.Raw(" data-stay");
        // The server validates (and its messages are the ones to see): the browser's own checks would stop the request.
        html.Raw(" novalidate><div class=\"form-errors\" role=\"alert\" hidden></div>");
    }

    private static void WriteButtons(Html html, IEnumerable<string> methods, string idPrefix)
    {
        html.Raw("<div class=\"form-actions\">");
        foreach (var method in methods)
        {
            html.Raw("<button type=\"submit\" class=\"primary\" id=\"").Raw(idPrefix).Raw(method).Raw("\" data-method=\"").Raw(method)
                .Raw("\">").Raw(method).Raw("</button>");
        }
        html.Raw("</div>");
    }

    /// <summary>DRF's raw-data form: a media type and the content, which starts as the fields to send (with the object's values).
    /// </summary>
    private void WriteRawForm(Html html, string key, string[] methods, IReadOnlyList<Field> fields, JsonElement? values, string? next)
    {
        WriteFormStart(html, "write raw-form", methods[0], next, id: "raw-" + key);
        html.Raw("<div class=\"form-group\"><label for=\"media-type-").Raw(key).Raw("\">Media type</label><div class=\"control\">")
            .Raw("<select name=\"_content_type\" id=\"media-type-").Raw(key).Raw("\">")
            .Raw("<option value=\"application/json\" selected>application/json</option>")
            .Raw("<option value=\"application/x-www-form-urlencoded\">application/x-www-form-urlencoded</option></select></div></div>")
            .Raw("<div class=\"form-group\"><label for=\"content-").Raw(key).Raw("\">Content</label><div class=\"control\">")
            .Raw("<textarea name=\"_content\" id=\"content-").Raw(key).Raw("\" spellcheck=\"false\">")
            .Text(RawContent(fields, values)).Raw("</textarea></div></div>");
        WriteButtons(html, methods, "submit-");
        html.Raw("</form>");
    }

    private static string RawContent(IReadOnlyList<Field> fields, JsonElement? values) => JsonView.Text(writer =>
    {
        writer.WriteStartObject();
        foreach (var field in fields)
        {
            writer.WritePropertyName(field.Name);
            if (Value(values, field) is { } value)
                value.WriteTo(writer);
            else
                WriteEmptyValue(writer, field);
        }
        writer.WriteEndObject();
    });

    /// <summary>What an empty form holds for the field, as DRF's raw form starts a create: "" for text, [] for a list.</summary>
    private static void WriteEmptyValue(Utf8JsonWriter writer, Field field)
    {
        switch (field.FormInput)
        {
            case FormInputKind.MultipleSelect:
                writer.WriteStartArray();
                writer.WriteEndArray();
                break;
            case FormInputKind.Checkbox:
                writer.WriteBooleanValue(false);
                break;
            case FormInputKind.Text or FormInputKind.Email or FormInputKind.Password:
            case FormInputKind.Select when field is IChoiceList:
                writer.WriteStringValue("");
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    private static JsonElement? Value(JsonElement? values, Field field) =>
        values is { } body && !field.WriteOnly && body.TryGetProperty(field.Name, out var value) ? value : null;

    /// <summary>One field: its label (with a mark when required), its input, its errors (filled after a 400), its help.</summary>
    private async Task WriteFieldAsync(Html html, string method, Field field, JsonElement? value)
    {
        var id = method + "-" + field.Name;
        var hasHelp = !string.IsNullOrEmpty(field.HelpText);
        html.Raw("<div class=\"form-group\" data-field=\"").Text(field.Name).Raw("\"><label for=\"").Text(id).Raw("\">").Text(field.Label);
        if (field.Required)
            html.Raw("<span class=\"required\" aria-hidden=\"true\">*</span>");
        html.Raw("</label><div class=\"control\">");
        var common = new Html().Raw(" id=\"").Text(id).Raw("\" name=\"").Text(field.Name)
            .Raw("\" aria-describedby=\"").Text(id + "-errors")
            .Raw(hasHelp ? " " : "").Text(hasHelp ? id + "-help" : "").Raw("\"")
            .Raw(field.Required && field.FormInput is not (FormInputKind.Checkbox or FormInputKind.MultipleSelect) ? " required" : "");
        var options = field.FormInput is FormInputKind.Select or FormInputKind.MultipleSelect ? await OptionsAsync(field) : null;
        if (field.FormInput == FormInputKind.Checkbox)
        {
            html.Raw("<input type=\"checkbox\" value=\"true\"").Raw(common.ToString())
                .Raw(value is { ValueKind: JsonValueKind.True } ? " checked" : "").Raw(">");
        }
        else if (options is { } choices)
        {
            WriteSelect(html, field, common, choices.Choices, choices.More, Selected(value));
        }
        else
        {
            WriteInput(html, field, common, value);
        }
        html.Raw("<ul class=\"field-errors\" id=\"").Text(id + "-errors").Raw("\" hidden></ul>");
        if (hasHelp)
            html.Raw("<p class=\"help\" id=\"").Text(id + "-help").Raw("\">").Text(field.HelpText).Raw("</p>");
        html.Raw("</div></div>");
    }

    private static void WriteInput(Html html, Field field, Html common, JsonElement? value)
    {
        var (type, text) = field.FormInput switch
        {
            FormInputKind.Email => ("email", Text(value)),
            FormInputKind.Number => ("number", Text(value)),
            FormInputKind.DateTime => ("datetime-local", LocalDateTime(value)),
            // A password is never shown back, not even to the user who typed it.
            FormInputKind.Password => ("password", ""),
            _ => ("text", Text(value)),
        };
        html.Raw("<input type=\"").Raw(type).Raw("\"").Raw(common.ToString()).Raw(" value=\"").Text(text).Raw("\"");
        html.Raw(field.FormInput == FormInputKind.Password ? " autocomplete=\"new-password\"" : " autocomplete=\"off\"");
        if (field is ITextLengthLimits { MaxLength: { } maxLength })
            html.Raw(" maxlength=\"").Raw(Number(maxLength)).Raw("\"");
        if (field is INumberLimits limits)
        {
            html.Raw(" step=\"1\"");
            if (limits.MinValue is { } min)
                html.Raw(" min=\"").Raw(Number(min)).Raw("\"");
            if (limits.MaxValue is { } max)
                html.Raw(" max=\"").Raw(Number(max)).Raw("\"");
        }
        if (field.FormInput == FormInputKind.DateTime)
            html.Raw(" step=\"1\"");
        html.Raw(">");
    }

    private static void WriteSelect(Html html, Field field, Html common, IReadOnlyList<ObjectChoice> options, bool more,
        HashSet<string> selected)
    {
        var multiple = field.FormInput == FormInputKind.MultipleSelect;
        html.Raw(multiple ? "<select multiple" : "<select").Raw(common.ToString());
        if (multiple)
            html.Raw(" size=\"").Raw(Number(Math.Clamp(options.Count + 1, 4, 10))).Raw("\"");
        html.Raw(">");
        if (!multiple && (!field.Required || field.AllowNull || field is IChoiceList { AllowBlank: true }))
            html.Raw("<option value=\"\">").Raw(BlankOption).Raw("</option>");
        foreach (var option in options)
            WriteOption(html, option, selected.Contains(option.Url));
        // A value beyond the cutoff stays selectable, so that sending the form back does not drop it.
        foreach (var missing in selected.Where(s => options.All(o => o.Url != s)))
            WriteOption(html, new ObjectChoice(missing, missing), selected: true);
        if (more)
            html.Raw("<option disabled>More than ").Raw(Number(ApiResource.SelectCutoff)).Raw(" items…</option>");
        html.Raw("</select>");
    }

    private static void WriteOption(Html html, ObjectChoice option, bool selected) =>
        html.Raw("<option value=\"").Text(option.Url).Raw("\"").Raw(selected ? " selected" : "").Raw(">")
            .Text(option.Display).Raw("</option>");

    /// <summary>
    /// A select's options: a choice field's own list, or the objects of the resource a hyperlink points to, listed through that
    /// resource's store adapter and cut off as DRF cuts them; null for a field with neither (it gets a text box).
    /// </summary>
    private async Task<(IReadOnlyList<ObjectChoice> Choices, bool More)?> OptionsAsync(Field field)
    {
        if (field is IChoiceList list)
            return ([.. list.Choices.Select(c => new ObjectChoice(c.Value, c.DisplayName))], false);
        if (field is not IRelatedField { Target: var target })
            return null;
        if (!_choices.TryGetValue(target, out var found))
        {
            var listed = await target.ChoicesAsync(_request, ApiResource.SelectCutoff + 1);
            found = listed.Count > ApiResource.SelectCutoff ? ([.. listed.Take(ApiResource.SelectCutoff)], true) : (listed, false);
            _choices[target] = found;
        }
        return found;
    }

    private static HashSet<string> Selected(JsonElement? value) => value switch
    {
        { ValueKind: JsonValueKind.Array } list => list.EnumerateArray().Select(item => Text(item)).ToHashSet(StringComparer.Ordinal),
        { ValueKind: JsonValueKind.Null } or null => new HashSet<string>(),
        { } one => new HashSet<string>(StringComparer.Ordinal) { Text(one) },
    };

    private static string Text(JsonElement? value) => value switch
    {
        { ValueKind: JsonValueKind.String } text => text.GetString()!,
        { ValueKind: JsonValueKind.Null } or null => "",
        { } other => other.GetRawText(),
    };

    /// <summary>A datetime-local box has no zone: it shows (and sends back) UTC, which the field reads when no offset is given.</summary>
    private static string LocalDateTime(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.String } text && IsoDateTime.TryParse(text.GetString()!, out var at)
            ? at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture)
            : "";

    private static string Number(long number) => number.ToString(CultureInfo.InvariantCulture);
}
