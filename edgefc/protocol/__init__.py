"""The tool-call protocol: the one place that knows how tools go in and calls come out.

schema: any tool description -> canonical JSON-Schema tools
render: messages + tools -> prompt, through the model's own chat template
parse:  model text -> calls, refusal, text, think
"""
