"""The tool-call protocol: the one place that knows how tools go in and calls come out.

schema: any tool description -> canonical JSON-Schema tools
render: messages + tools -> prompt, through the model's own chat template
parse:  model text -> calls, refusal, text, think
grammar: tools + tool_choice -> the language of every answer parse reads as well-formed
constrain: that grammar -> per-step token masks and forced tokens, for any runtime's decoding loop
"""
